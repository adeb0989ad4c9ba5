"""Where the checkout and its offline data are, for tests at any depth under tests/."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
RULE_TESTS = REPO / "tests" / "rules"  # the shipped rule tests (TOML), also run by `rotation-bot rules test`
