"""The bot token never reaches the logs: the redaction filter on PTB's and httpx's loggers."""

from __future__ import annotations

import logging

import pytest

from bot.telegram.redact import RedactToken, redact_token_in_logs
from tests.support.tg_helpers import TOKEN


def test_token_is_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    redact_token_in_logs(TOKEN)
    try:
        logging.getLogger("httpx").warning("HTTP Request: POST http://x/bot%s/getMe", TOKEN)
        logging.getLogger("telegram.ext.Updater").error("failed at http://x/bot%s/getUpdates", TOKEN)
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")  # as PTB's InvalidToken says
        except RuntimeError:
            logging.getLogger("telegram.ext.Application").exception("Error while initializing")
        assert "getMe" in caplog.text and "getUpdates" in caplog.text and "was rejected" in caplog.text
        assert TOKEN not in caplog.text and "<token>" in caplog.text
        assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    finally:
        for name in ("httpx", "httpcore", "telegram", "telegram.ext", ""):
            for f in [f for f in logging.getLogger(name).filters if isinstance(f, RedactToken)]:
                logging.getLogger(name).removeFilter(f)
        for h in logging.getLogger().handlers:
            for f in [f for f in h.filters if isinstance(f, RedactToken)]:
                h.removeFilter(f)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
