"""Schema changes as named steps (sqlite-utils ``Migrations``), each applied once in a transaction.

Add a new function at the bottom to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("rotation-bot")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE prices (
            symbol TEXT NOT NULL,
            date TEXT NOT NULL,
            close REAL,
            adj_close REAL,
            PRIMARY KEY (symbol, date)
        ) WITHOUT ROWID"""
    )
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("universe_members").create(
        {"universe": str, "symbol": str, "name": str, "sector": str, "source": str},
        pk=("universe", "symbol"),
    )
    db.table("membership").create(
        {"universe": str, "symbol": str, "start": str, "end": str},
        pk=("universe", "symbol", "start"),
    )
    db.table("cpi_observations").create(
        {"series": str, "month": str, "value": float, "vintage": str, "first_seen": str},
        pk=("series", "month", "vintage"),
    )
    db.table("cpi_releases").create({"month": str, "release_date": str, "release_time": str}, pk="month")
    db.table("cpi_consensus").create(
        {"month": str, "measure": str, "expected": float, "actual": float, "source": str},
        pk=("month", "measure"),
    )
    db.table("rule_state").create({"rule": str, "state": str, "updated_at": str}, pk="rule")
    db.table("alerts").create(
        {
            "key": str,
            "rule": str,
            "date": str,
            "kind": str,
            "value": float,
            "message": str,
            "payload": str,
            "created_at": str,
        },
        pk="key",
    )
    db.table("alerts").create_index(["date"])
    db.table("outbox").create(
        {
            "id": int,
            "alert_key": str,
            "chat_id": int,
            "text": str,
            "photo": bytes,
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "created_at": str,
            "sent_at": str,
            "last_error": str,
        },
        pk="id",
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("outbox").create_index(["alert_key", "chat_id"], unique=True)
    db.table("outbox").create_index(["status", "chat_id", "id"])
    db.table("subscriptions").create(
        {"chat_id": int, "subscribed_at": str, "muted_until": str},
        pk="chat_id",
    )
    db.table("runs").create(
        {"id": int, "kind": str, "started_at": str, "finished_at": str, "status": str, "detail": str},
        pk="id",
    )
    db.table("source_status").create(
        {
            "source": str,
            "last_attempt": str,
            "last_success": str,
            "last_error": str,
            "last_data_date": str,
            "next_retry": str,
        },
        pk="source",
    )


@migrations()
def m002_track_cache(db: Database) -> None:
    """Track records are a full-history replay; cache them per rule definition and data version."""
    db.table("track_cache").create(
        {"rule": str, "rule_hash": str, "data_version": int, "payload": str, "created_at": str},
        pk=("rule", "rule_hash", "data_version"),
    )


@migrations()
def m003_price_columns(db: Database) -> None:
    """Each symbol's whole history as numpy bytes: one row read instead of thousands (bot/store/pricecache.py)."""
    db.execute(
        """CREATE TABLE price_columns (
            symbol TEXT PRIMARY KEY,
            days BLOB NOT NULL,
            close BLOB NOT NULL,
            adj_close BLOB NOT NULL
        )"""
    )


@migrations()
def m004_chat_migrations(db: Database) -> None:
    """Groups Telegram upgraded to supergroups: the config still names the old id, which allows the new one."""
    db.table("chat_migrations").create({"old_chat_id": int, "new_chat_id": int, "migrated_at": str}, pk="old_chat_id")


@migrations()
def m005_track_cache_since(db: Database) -> None:
    """Track records now keep firings after the last close and date "since" from the first day a rule could run:
    cached ones made before are dropped and computed again on first use."""
    db.execute("DELETE FROM track_cache")


@migrations()
def m006_config_edits(db: Database) -> None:
    """Rule edits made from chat or `rules set`: who, when, the diff, and the inverse that undoes each."""
    db.table("config_edits").create(
        {
            "id": int,
            "at": str,
            "chat_id": int,
            "rule": str,
            "new_name": str,
            "kind": str,
            "edit": str,
            "inverse": str,
            "diff": str,
            "base_digest": str,
            "new_digest": str,
            "undoes": int,
        },
        pk="id",
        not_null={"at", "rule", "kind", "edit", "diff", "base_digest", "new_digest"},
    )
    db.table("config_edits").create_index(["rule"])


@migrations()
def m007_routing_and_silences(db: Database) -> None:
    """Per-chat routing (rules and/or a severity floor; no row: every rule) and per-chat silences of one rule.

    ``rules`` is a JSON list of rule names, NULL for every rule; ``until`` is UTC ISO, so string order is time order.
    """
    db.table("chat_routes").create(
        {"chat_id": int, "rules": str, "min_severity": str, "updated_at": str},
        pk="chat_id",
    )
    db.table("silences").create(
        {"chat_id": int, "rule": str, "until": str, "reason": str, "created_at": str},
        pk=("chat_id", "rule"),
    )
    db.table("silences").create_index(["until"])


@migrations()
def m008_track_cache_base_rates(db: Database) -> None:
    """Track records now carry every day's base rate and a test against it beside each horizon: cached ones made
    before lack them and are dropped, computed again on first use."""
    db.execute("DELETE FROM track_cache")


@migrations()
def m009_config_edit_intents(db: Database) -> None:
    """An edit is recorded before config.toml is renamed into place (``pending`` set), and completed after: a crash
    between the two leaves the intent, which the next start or edit command completes or drops by the file's hash."""
    db.table("config_edits").add_column("pending", int)


@migrations()
def m010_outbox_unanswered(db: Database) -> None:
    """Sends of a row that left without Telegram's answer (it may have the message): delivery stops at two, also
    across a restart, so a dropped connection cannot repeat an alert more than once."""
    db.table("outbox").add_column("unanswered", int, not_null_default=0)
