"""The CPI tables: observations per vintage, the BLS release calendar, consensus forecasts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.errors import StoreError
from bot.store.base import StoreBase, utcnow
from bot.store.faults import read_back
from bot.store.guards import guard_consensus, guard_observation, guard_release


def release_clashes(stored: Iterable[tuple[str, str, str]], rows: Sequence[tuple[str, str, str]]) -> dict[int, str]:
    """Per index of a row of ``rows`` (month, day, time) whose day already releases another month (stored, or
    an earlier row), that month. A month given again may move to another day."""
    given = {m for m, _, _ in rows}
    released = {d: m for m, d, _ in stored if m not in given}
    return {i: released[d] for i, (m, d, _) in enumerate(rows) if released.setdefault(d, m) != m}


class CpiTables(StoreBase):
    def upsert_cpi_observations(self, series: str, rows: Sequence[tuple[str, float | None]], vintage: str) -> int:
        """Monthly index levels of one series as known in ``vintage`` ("latest" or an ISO date)."""
        for m, v in rows:
            guard_observation(series, vintage, m, v)
        conn = self.db.conn
        before = conn.total_changes
        now = utcnow()
        with self.db.atomic():
            conn.executemany(
                """INSERT INTO cpi_observations (series, month, value, vintage, first_seen) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (series, month, vintage) DO UPDATE SET value = excluded.value
                WHERE cpi_observations.value IS NOT excluded.value""",
                [(series, m, v, vintage, now) for m, v in rows],
            )
            changed = conn.total_changes - before
            if changed:
                self._bump_data_version()
        return changed

    def set_cpi_releases(self, rows: Sequence[tuple[str, str, str]]) -> int:
        """BLS release calendar: (reference month YYYY-MM, release date YYYY-MM-DD, release time ET HH:MM).

        A release day names one month (the CPI rules index releases by day); a second month on a day
        already stored or given is refused, and nothing is written.
        """
        for row in rows:
            guard_release(row)
        with self.transaction():
            for i, month in release_clashes(self.cpi_releases(), rows).items():
                m, d, _ = rows[i]
                raise StoreError(f"refused CPI release of {m}: {d} is already the release day of {month}")
            self.db.table("cpi_releases").upsert_all(
                ({"month": m, "release_date": d, "release_time": t} for m, d, t in rows), pk="month"
            )
        return len(rows)

    def upsert_consensus(self, rows: Sequence[Mapping[str, Any]], source: str) -> int:
        """Consensus forecasts (and, from a calendar file, the first-published actual)."""
        for row in rows:
            guard_consensus(row)
        self.db.table("cpi_consensus").upsert_all(
            (
                {
                    "month": r["month"],
                    "measure": r["measure"],
                    "expected": r.get("expected"),
                    "actual": r.get("actual"),
                    "source": source,
                }
                for r in rows
            ),
            pk=("month", "measure"),
        )
        return len(rows)

    def set_consensus_expected(self, month: str, measure: str, expected: float, source: str) -> None:
        """Set one consensus forecast, keeping a first-published ``actual`` already stored for it."""
        guard_consensus({"month": month, "measure": measure, "expected": expected})
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO cpi_consensus (month, measure, expected, actual, source) VALUES (?, ?, ?, NULL, ?)
                ON CONFLICT (month, measure) DO UPDATE SET expected = excluded.expected, source = excluded.source""",
                [month, measure, expected, source],
            )

    def cpi_releases(self) -> list[tuple[str, str, str]]:
        """The BLS calendar as (reference month, release date, release time ET), by month."""
        rows = self.db.execute("SELECT month, release_date, release_time FROM cpi_releases ORDER BY month").fetchall()
        return [(r[0], r[1], r[2] or "08:30") for r in rows]

    def cpi_levels(self, series: str) -> list[tuple[str, str, float]]:
        """(month, vintage, value) of one series, every stored vintage."""
        rows = self.db.execute(
            "SELECT month, vintage, value FROM cpi_observations WHERE series = ? AND value IS NOT NULL", [series]
        ).fetchall()
        return [(r[0], r[1], float(r[2])) for r in rows]

    def consensus_rows(self) -> list[tuple[str, str, float | None, float | None]]:
        """(month, measure, expected, first-published actual) for every stored consensus."""
        rows = self.db.execute("SELECT month, measure, expected, actual FROM cpi_consensus").fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def month_released(self, month: str) -> bool:
        """Does the store hold a first figure for ``month`` (from FRED or a consensus file's actual)?"""
        row = self.db.execute(
            "SELECT 1 FROM cpi_observations WHERE month = ? AND value IS NOT NULL"
            " UNION SELECT 1 FROM cpi_consensus WHERE month = ? AND actual IS NOT NULL LIMIT 1",
            [month, month],
        ).fetchone()
        return row is not None

    def first_release_date(self) -> dt.date | None:
        row = self.db.execute("SELECT MIN(release_date) FROM cpi_releases").fetchone()
        return read_back(dt.date.fromisoformat, row[0]) if row and row[0] else None

    def last_release_date(self, on_or_before: dt.date) -> dt.date | None:
        row = self.db.execute(
            "SELECT MAX(release_date) FROM cpi_releases WHERE release_date <= ?", [on_or_before.isoformat()]
        ).fetchone()
        return read_back(dt.date.fromisoformat, row[0]) if row and row[0] else None
