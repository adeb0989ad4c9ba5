"""A fake Telegram Bot API on 127.0.0.1: the real PTB client talks HTTP to it via ``base_url``.

It answers getMe, getUpdates (from a queue the test fills: messages, and button presses as callback queries),
sendMessage, sendPhoto, answerCallbackQuery, setMyCommands and friends, records every request, and can be told
to fail the next calls of a method: 429 with ``retry_after``, 500, 403 (blocked by the user), 401 (a revoked
token), 400, 200 with an HTML page (not the Bot API), 200 with JSON that is not the Bot API's answer ("json"), a
delay longer than the client's timeout, "late" (accepted, answered only after ``delay``: the client may time out
on a message Telegram has), "hang" (accepted, answered after ``delay`` or when the test calls ``release``),
"drop" (accepted, then the socket is closed without an answer) or "reset" (accepted, then the connection is
reset): the faults after which only Telegram knows whether it took the message. ``fail_chat`` gives every send
to one chat a failure until told otherwise (a 429 or a hang for that chat only, while the others are answered).
``migrate`` turns a group into a supergroup (later sends to the old id get Telegram's 400 with
``migrate_to_chat_id``), and ``enforce_limits`` refuses texts and captions longer than Telegram allows and HTML
it cannot parse (tests/support/tg_html.py). Modelled on httpx's ``serve_in_thread``.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.tg_html import html_problem, visible_length
from tests.support.tg_wire import ACCEPTED, Failure, Request, fail, hang_up, parse_body, reply, wait_before_answering

__all__ = ["ACCEPTED", "Failure", "FakeTelegram", "Request", "fake_telegram", "visible_length"]

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "RotationBot", "username": "rotation_test_bot"}
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024  # Telegram's, in characters after entity parsing
SENDS = ("sendMessage", "sendPhoto")


class FakeTelegram:
    """Start with ``with FakeTelegram() as tg:``; point PTB at ``tg.base_url``."""

    def __init__(self, long_poll: float = 0.2) -> None:
        self.requests: list[Request] = []
        self.long_poll = long_poll
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._failures: dict[str, deque[Failure]] = {}
        self._migrated: dict[int, int] = {}
        self._chat_faults: dict[int, Failure] = {}
        self._released = threading.Event()  # set: every hung send is answered, and later ones at once
        self.enforce_limits = False
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Give this to PTB's ``base_url``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- programming it --------------------------------------------------------------------------

    def push_text(self, chat_id: int, text: str, user_id: int | None = None, edited: bool = False) -> int:
        """Queue an incoming message (a command when it starts with /) for getUpdates; ``edited``: an edit."""
        uid = next(self._update_ids)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "T"},
            "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "T"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if edited:
            message["edit_date"] = message["date"]
        with self._cond:
            self._updates.append({"update_id": uid, "edited_message" if edited else "message": message})
            self._cond.notify_all()
        return uid

    def push_press(self, chat_id: int, data: str, user_id: int | None = None) -> int:
        """Queue a button press (a callback query) on a message of the bot in ``chat_id``."""
        uid = next(self._update_ids)
        query = {
            "id": f"cb{uid}",
            "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "T"},
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "T"},
                "from": BOT_USER,
                "text": "🔔 an alert",
            },
        }
        with self._cond:
            self._updates.append({"update_id": uid, "callback_query": query})
            self._cond.notify_all()
        return uid

    def fail_next(self, method: str, *failures: Failure | str) -> None:
        """The next calls of ``method`` fail in this order (strings are Failure kinds)."""
        q = self._failures.setdefault(method, deque())
        for f in failures:
            q.append(f if isinstance(f, Failure) else Failure(f))

    def fail_chat(self, chat_id: int, failure: Failure | str | None) -> None:
        """Every send to ``chat_id`` fails so from now on, before any ``fail_next`` (``None``: answered again)."""
        if failure is None:
            self._chat_faults.pop(chat_id, None)
        else:
            self._chat_faults[chat_id] = failure if isinstance(failure, Failure) else Failure(failure)

    def release(self) -> None:
        """Answer every hung send now, and any later one at once."""
        self._released.set()

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group ``old_chat_id`` became a supergroup: later sends to it are refused with its new id."""
        self._migrated[old_chat_id] = new_chat_id

    # --- reading what happened -------------------------------------------------------------------

    def calls(self, method: str, chat_id: int | None = None, outcome: str | None = "ok") -> list[Request]:
        return [
            r
            for r in list(self.requests)
            if r.method == method
            and (chat_id is None or r.chat_id == chat_id)
            and (outcome is None or r.outcome == outcome)
        ]

    def sent(self, chat_id: int | None = None) -> list[Request]:
        """Messages and photos the server accepted, in order."""
        return [
            r
            for r in list(self.requests)
            if r.method in ("sendMessage", "sendPhoto")
            and r.outcome == "ok"
            and (chat_id is None or r.chat_id == chat_id)
        ]

    def accepted(self, chat_id: int | None = None) -> list[Request]:
        """Messages and photos Telegram has, including those answered too late for the client to know."""
        return [
            r
            for r in list(self.requests)
            if r.method in ("sendMessage", "sendPhoto")
            and r.outcome in ACCEPTED
            and (chat_id is None or r.chat_id == chat_id)
        ]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll ``predicate`` until true; fail the test if it never becomes true."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; requests: {self.summary()}")
            await asyncio.sleep(0.02)

    def summary(self) -> list[tuple[str, int | None, str, str]]:
        return [(r.method, r.chat_id, r.outcome, r.text[:40]) for r in self.requests if r.method != "getUpdates"]

    # --- serving ---------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = h.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            reply(h, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = parts[0][3:], parts[1]
        length = int(h.headers.get("Content-Length") or 0)
        params, files = parse_body(h.headers.get("Content-Type") or "", h.rfile.read(length))
        req = Request(method, token, params, files)
        refusal = self._refusal(method, req)
        if refusal is not None:
            req.outcome = refusal[0]
            self.requests.append(req)
            reply(h, 400, {"ok": False, "error_code": 400, **refusal[1]})
            return
        failure = self._chat_faults.get(req.chat_id) if method in SENDS and req.chat_id is not None else None
        queue = self._failures.get(method)
        if failure is None and queue:
            failure = queue.popleft()
        if failure is not None:
            req.outcome = failure.kind
        self.requests.append(req)
        if failure is not None and failure.kind in ("late", "hang"):
            wait_before_answering(failure, self._released)  # the message is in; the answer comes late
        elif failure is not None and failure.kind in ("drop", "reset"):
            hang_up(h, reset=failure.kind == "reset")
            return
        elif failure is not None:
            fail(h, failure)
            return
        reply(h, 200, {"ok": True, "result": self._result(method, params)})

    def _refusal(self, method: str, req: Request) -> tuple[str, dict[str, Any]] | None:
        """Refusals that follow from the chat or the message, not from a programmed failure."""
        if method not in SENDS:
            return None
        new_id = self._migrated.get(req.chat_id) if req.chat_id is not None else None
        if new_id is not None:
            why = "Bad Request: group chat was upgraded to a supergroup chat"
            return "migrated", {"description": why, "parameters": {"migrate_to_chat_id": new_id}}
        if self.enforce_limits:
            limit, what = (
                (TEXT_LIMIT, "message is") if method == "sendMessage" else (CAPTION_LIMIT, "message caption is")
            )
            if visible_length(req.text, req.params.get("parse_mode")) > limit:
                return "too long", {"description": f"Bad Request: {what} too long"}
            problem = html_problem(req.text) if req.params.get("parse_mode") == "HTML" else None
            if problem is not None:
                return "bad html", {"description": f"Bad Request: {problem}"}
        return None

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False}
        if method == "getUpdates":
            return self._get_updates(params)
        if method in ("sendMessage", "sendPhoto"):
            chat_id = int(params["chat_id"])
            result: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
            }
            if method == "sendMessage":
                result["text"] = params.get("text", "")
            else:
                result["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]
                if "caption" in params:
                    result["caption"] = params["caption"]
            return result
        if method == "getMyCommands":
            cmds = [r for r in self.requests if r.method == "setMyCommands" and r.outcome == "ok"]
            return cmds[-1].params.get("commands", []) if cmds else []
        return True  # setMyCommands, deleteWebhook, close, logOut, …

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), self.long_poll)
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                ready = [u for u in self._updates if u["update_id"] >= offset]
                left = deadline - time.monotonic()
                if ready or left <= 0:
                    return ready
                self._cond.wait(left)


@contextmanager
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as tg:
        yield tg
