"""Hot reload of config.toml: a valid edit takes effect at once, a broken one keeps the last good rules.

Like Prometheus' rule manager ("error loading rules, previous rule set restored"), a reload either
swaps the whole config or nothing, and the admin is told which. The file is watched by polling its
content hash (cheap for a small file, and exact where mtimes are coarse): bot/jobs calls
``ConfigHolder.poll`` every ``POLL_SECONDS``; ``/reload`` calls ``reload_config``; the daily check polls too, so
it judges the file as it is.

Before each load the holder calls its ``settle`` (``bot.edits.settle``, given by whoever owns a store: this floor
has none): an edit killed after the file was replaced and before it was recorded is completed (a rename's routes,
silences and state carried to the new name) or dropped, so the rules loaded and the store's rows agree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config.files import digest
from bot.config.settings import Config, load_config
from bot.errors import ConfigFileError

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]
Settle = Callable[[Path], object]  # completes or drops the edits a crash left half recorded against this file
POLL_SECONDS = 2.0


def _digest(path: Path) -> str | None:
    try:
        return digest(path.read_bytes())
    except OSError:
        return None


class ConfigHolder:
    """The config in force and where it came from; readers ask it each time, so a reload needs no listeners."""

    def __init__(self, config: Config, path: Path | None = None, settle: Settle | None = None) -> None:
        self.config = config
        self.path = (path or config.path or Path("config.toml")).resolve()
        self.settle = settle
        self.last_error: str | None = None
        self._seen = _digest(self.path)
        self._lock = threading.Lock()  # the watcher (event loop) and the daily check (a worker thread) both reload

    @classmethod
    def load(cls, path: Path) -> ConfigHolder:
        return cls(load_config(path), path)

    def changed(self) -> bool:
        """Has the file's content changed since the last load or failed attempt?"""
        return _digest(self.path) != self._seen

    def reload(self, settle: Settle | None = None) -> str:
        """Settle, then load the file again; on success swap configs, on failure keep the old one. Returns the admin
        message. ``settle`` replaces the holder's own (the caller's thread has its own store connection)."""
        with self._lock:
            return self._reload(settle)

    def _reload(self, settle: Settle | None) -> str:
        settle = settle or self.settle
        if settle is not None:
            settle(self.path)
        self._seen = _digest(self.path)
        name = self.path.name
        try:
            new = load_config(self.path)
        except ConfigFileError as exc:
            self.last_error = str(exc)
            log.warning("config reload failed, keeping the previous config: %s", exc)
            return f"{name} has errors; still running the previous {len(self.config.rules)} rules. Fix:\n{exc}"
        old = self.config
        self.config = new
        self.last_error = None
        return "\n".join([f"{name} reloaded: {describe_changes(old, new)}", *new.cannot_run()])

    def poll(self, settle: Settle | None = None) -> str | None:
        """Reload if the file changed; the message to send, or None when nothing changed (or another thread is
        reloading it right now: that one sends the message)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._reload(settle) if self.changed() else None
        finally:
            self._lock.release()


def describe_changes(old: Config, new: Config) -> str:
    """One line: rule count and what changed, plus settings that only a restart applies."""
    before = {r.name: r for r in old.rules}
    after = {r.name: r for r in new.rules}
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(
        n for n in set(after) & set(before) if (after[n].spec, after[n].params) != (before[n].spec, before[n].params)
    )
    parts = [f"{len(after)} rules"]
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    if changed:
        parts.append("changed " + ", ".join(changed))
    if not (added or removed or changed):
        parts.append("rules unchanged")
    restart = []
    if old.settings.store.path != new.settings.store.path:  # backups and keep apply at the next daily job
        restart.append("[store]")
    o, n = old.settings.telegram, new.settings.telegram
    if (o.api_base_url, o.token_env, o.token_file) != (n.api_base_url, n.token_env, n.token_file):
        restart.append("[telegram] connection")
    line = "; ".join(parts)
    if restart:
        line += f" (restart to apply {' and '.join(restart)})"
    return line


def reload_config(holder: ConfigHolder) -> str:
    """``/reload``: reload now, whether or not the file changed; returns the message for the admin."""
    return holder.reload()
