"""The heartbeat: ``[monitor] ping_url`` hears after each daily job, ``…/fail`` after a failed one.

A dead-man's switch (healthchecks.io and its kind) alerts the owner when the pings stop, which is the
one fault a bot cannot report itself: a crashed host, a revoked token, a machine turned off. The ping
runs in a thread of its own with a timeout, so a slow or dead monitor never delays or fails the job,
and it logs nothing that names the URL: the URL is the secret that lets anyone ping.
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds for the whole request; the job never waits for it


def fail_url(url: str) -> str:
    """Healthchecks' failure signal: ``/fail`` after the path, before any query (``…/<uuid>/fail?rid=1``)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/fail"))


def ping(url: str | None, ok: bool, timeout: float | None = None) -> threading.Thread | None:
    """Ping ``url`` (or its failure form) in the background; returns the thread (tests join it), or None."""
    if not url:
        return None
    target = url if ok else fail_url(url)
    args = (target, ok, timeout or TIMEOUT)
    thread = threading.Thread(target=_send, args=args, name="heartbeat", daemon=True)
    thread.start()
    return thread


def _send(url: str, ok: bool, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "rotation-bot heartbeat"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read(1024)
    except Exception as exc:  # never let the monitor's trouble reach the job, nor its URL the log
        log.warning("the heartbeat %s ping went unanswered (%s); the job itself is not affected", _kind(ok), _why(exc))


def _kind(ok: bool) -> str:
    return "success" if ok else "failure"


def _why(exc: Exception) -> str:
    """The cause in words that never carry the URL (urllib's errors may quote it)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError | socket.timeout):
        return "no answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "cannot resolve the monitor's host"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__
