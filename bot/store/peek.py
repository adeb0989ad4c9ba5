"""A read-only look into a store without opening it as the bot does (no migrations, no sqlite-utils).

``rules check`` uses it to warn about symbols the store has never seen: validating a config must
neither create nor change a store file, and must start fast (sqlite-utils imports pandas).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path


def stored_symbols(path: Path, symbols: Iterable[str]) -> set[str] | None:
    """Which of ``symbols`` have prices in the store at ``path``; None when there is no readable store."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        rows = conn.execute(
            "SELECT s.value FROM json_each(?) AS s WHERE EXISTS (SELECT 1 FROM prices WHERE symbol = s.value)",
            [json.dumps(sorted(set(symbols)))],
        ).fetchall()
    except sqlite3.Error:  # not a store, or one without prices yet
        return None
    finally:
        conn.close()
    return {r[0] for r in rows}


def cached_tracks(path: Path) -> dict[str, tuple[str, dict[str, object]]]:
    """The track records cached for the store's current data: {rule: (rule fingerprint, payload)}."""
    if not path.exists():
        return {}
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    try:
        rows = conn.execute(
            "SELECT rule, rule_hash, payload FROM track_cache WHERE data_version = "
            "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version')"
        ).fetchall()
    except sqlite3.Error:
        return {}
    finally:
        conn.close()
    return {rule: (fingerprint, json.loads(payload)) for rule, fingerprint, payload in rows}
