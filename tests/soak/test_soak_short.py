"""A 5-day soak with a fixed seed, inside ``make test``: the whole fault mix, every invariant, in under a minute.

The 60-day run is ``make soak`` (README, "How we test reliability"); this one keeps the soak itself from
rotting between those runs, and catches a break the mix of faults finds in its first days.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from soak.main import run
from soak.world import SHARED

SEED, DAYS = 7, 5


def test_a_five_day_soak_under_random_faults_keeps_every_invariant(tmp_path: Path) -> None:
    if not (SHARED / "indices" / "^GSPC.csv").exists():
        pytest.skip("generated walks work too, but this test pins the shared data's days")
    ok, figures = run(SEED, DAYS, tmp_path / "soak")
    assert ok, "\n".join(map(str, figures["lines"]))  # type: ignore[call-overload]
    assert sum(figures["faults"].values()) >= 10  # type: ignore[attr-defined]
