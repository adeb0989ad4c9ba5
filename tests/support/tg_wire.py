"""The fake Bot API's wire: what a request was, the failures it can be given, and how each is answered.

Kept apart from tests/support/fake_telegram.py (the server and what a test programs) so each stays short.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import socket
import struct
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

# Outcomes of a message Telegram has, whether or not the client saw the answer.
ACCEPTED = ("ok", "delay", "late", "hang", "drop", "reset")


@dataclass
class Request:
    """One API call as the server saw it; ``outcome`` is "ok" or the failure it was given."""

    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    outcome: str = "ok"

    @property
    def chat_id(self) -> int | None:
        v = self.params.get("chat_id")
        return int(v) if v is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")


@dataclass
class Failure:
    """``hang``: the message is in, and the answer waits ``delay`` seconds or until the test releases it."""

    kind: str  # "429" "500" "403" "401" "400" "delay" "late" "hang" "drop" "reset" "html" (200, not JSON) "json"
    retry_after: int = 1
    delay: float = 1.5
    body: str = ""  # "json": 200 with this body, JSON but not the Bot API's answer


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """PTB posts form fields (JSON-encoded where not plain strings), multipart when a file is attached."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if content_type.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            if part.get_filename():
                files[str(name)] = payload
            else:
                params[str(name)] = payload.decode()
    elif body:
        params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    for k, v in list(params.items()):
        if isinstance(v, str) and v and v[0] in "[{":
            with suppress(ValueError):
                params[k] = json.loads(v)
    return params, files


def send_body(h: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    """One whole HTTP answer: the Bot API's JSON, or a page or body that is not it."""
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def reply(h: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
        send_body(h, status, "application/json", json.dumps(payload).encode())


def hang_up(h: BaseHTTPRequestHandler, reset: bool) -> None:
    """The message is in, but no answer leaves: the socket closes (EOF), or with ``reset`` an RST ends it."""
    h.close_connection = True
    if reset:  # linger 0: close() sends RST instead of FIN; the server's own shutdown then finds it closed
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()


def wait_before_answering(f: Failure, released: threading.Event) -> None:
    """``late`` sleeps its delay; ``hang`` waits its delay or until the test releases every hung send."""
    if f.kind == "hang":
        released.wait(f.delay)
    else:
        time.sleep(f.delay)


def fail(h: BaseHTTPRequestHandler, f: Failure) -> None:
    """Answer with the failure (the message is not taken, except by ``delay``, which answers late)."""
    if f.kind == "429":
        reply(
            h,
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {f.retry_after}",
                "parameters": {"retry_after": f.retry_after},
            },
        )
    elif f.kind == "500":
        reply(h, 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
    elif f.kind == "403":
        reply(h, 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    elif f.kind == "401":  # the token was revoked (@BotFather /revoke) while the bot ran
        reply(h, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    elif f.kind == "400":
        reply(h, 400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse entities"})
    elif f.kind == "html":
        send_body(h, 200, "text/html", b"<html><body>Welcome to the hotel Wi-Fi</body></html>")
    elif f.kind == "json":
        send_body(h, 200, "application/json", f.body.encode())
    elif f.kind == "delay":
        time.sleep(f.delay)
        reply(h, 200, {"ok": True, "result": True})
    else:
        raise AssertionError(f.kind)
