"""Chat editing from a test: the shipped config.toml on a store with the ratio's prices, commands typed and
buttons pressed through the one command table (no Telegram in between)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bot.chat import CommandContext, Reply, dispatch, press
from bot.chat.service import Service
from bot.config import load_config
from bot.store.db import Store
from tests.support.tg_helpers import ADMIN, EDITOR, load_prices, shipped_config_file


def shipped_service(folder: Path, base_url: str) -> Iterator[Service]:
    """A service on the shipped config (editor and admin chats set), closed after the test."""
    config = load_config(shipped_config_file(folder, base_url))
    store = Store(config.store_path)
    load_prices(store)
    yield Service(config, store, config_path=config.path)
    store.close()


async def say(svc: Service, chat: int, line: str) -> Reply:
    return await dispatch(CommandContext(svc, chat, admin=chat == ADMIN), line)


async def apply_of(svc: Service, reply: Reply) -> Reply:
    """Press the Apply button of a preview, as the editor chat."""
    [apply] = [b for row in reply.buttons for b in row if b.command == "apply"]
    return await press(CommandContext(svc, EDITOR), apply.data)
