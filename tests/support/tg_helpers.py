"""Shared setup for the Telegram, delivery and console tests: a config, a store with generated
^RUT/^GSPC closes whose ratio crosses 0.4 on the last day, and a running Application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from telegram.error import TelegramError

from bot.chat.service import Service
from bot.config.defaults import DEFAULT_RULES
from bot.config.settings import Config
from bot.store.db import Store
from bot.telegram.app import App, build_application
from tests.support.factories import make_config, price_frame
from tests.support.paths import REPO

ALLOWED, ADMIN, STRANGER = 111, 999, 555
TOKEN = "123:TEST"
DAYS = 300
# ^GSPC flat at 5000; ^RUT at 1900 (ratio 0.38) until the last day, then 2100 (0.42).
GSPC = np.full(DAYS, 5000.0)
RUT = np.concatenate([np.full(DAYS - 1, 1900.0), [2100.0]])

# The shipped ratio rule, and a second one just above it, so one check fires two alerts in order.
RATIO_RULE = next(r for r in DEFAULT_RULES if r["name"] == "rut-spx-above-0.4")
RULES: list[dict[str, object]] = [
    RATIO_RULE,
    {
        **RATIO_RULE,
        "name": "rut-spx-above-0.41",
        "threshold": 0.41,
        "message": "Second alert: ratio {value:.3f} above {threshold}",
    },
]


def tg_config(
    tmp_path: Path, base_url: str = "http://127.0.0.1:9/bot", rules: list[dict[str, object]] | None = None
) -> Config:
    return make_config(
        tmp_path,
        extra={
            "telegram": {"api_base_url": base_url, "allowed_chats": [ALLOWED], "admin_chats": [ADMIN]},
        },
        rules=RULES if rules is None else rules,
    )


def load_prices(store: Store) -> None:
    store.upsert_prices("^GSPC", price_frame(GSPC))
    store.upsert_prices("^RUT", price_frame(RUT))


@asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    """What ``run_polling`` does, minus signal handling: initialize, post_init, poll, start; then stop."""
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None

    def polling_error(exc: TelegramError) -> None:  # to the error handlers, as run_polling sends them
        app.create_task(app.process_error(error=exc, update=None))

    await app.updater.start_polling(poll_interval=0.0, timeout=1, error_callback=polling_error)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()


def build(service: Service, **kw: Any) -> App:
    return build_application(service, TOKEN, request_timeout=kw.pop("request_timeout", 0.5), **kw)


EDITOR = 222  # an allowed chat that may also edit the rules


def shipped_config_file(folder: Path, base_url: str) -> Path:
    """The shipped config.toml, comments and all, on a store in ``folder`` and the fake server, with chats to edit."""
    text = (REPO / "config.toml").read_text()
    text = text.replace('path = "data/rotation-bot.sqlite"', f'path = "{folder / "s.sqlite"}"', 1)
    text = text.replace('api_base_url = "https://api.telegram.org/bot"', f'api_base_url = "{base_url}"', 1)
    text = text.replace("allowed_chats = []", f"allowed_chats = [{ALLOWED}, {EDITOR}]", 1)
    text = text.replace("admin_chats = []", f"admin_chats = [{ADMIN}]", 1)
    text = text.replace("editor_chats = []", f"editor_chats = [{EDITOR}]", 1)
    path = folder / "config.toml"
    path.write_text(text)
    return path
