"""The bot token in no log line: httpx logs request URLs, which contain it, and PTB's InvalidToken quotes it."""

from __future__ import annotations

import logging

__all__ = ["RedactToken", "redact_token_in_logs"]


class RedactToken(logging.Filter):
    """Replace the bot token in any log record (httpx logs request URLs, which contain it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if self.token in msg:
            record.msg = msg.replace(self.token, "<token>")
            record.args = None
        # Tracebacks too: PTB's InvalidToken quotes the token. Formatters reuse a pre-set exc_text.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        if record.stack_info and self.token in record.stack_info:
            record.stack_info = record.stack_info.replace(self.token, "<token>")
        return True


def redact_token_in_logs(token: str) -> None:
    """Silence httpx's per-request INFO lines and redact the token from every handler's output."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    redactor = RedactToken(token)
    for name in ("httpx", "httpcore", "telegram", "telegram.ext", ""):
        logging.getLogger(name).addFilter(redactor)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
