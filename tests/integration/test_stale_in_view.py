"""Stale data is said where one looks first: each `check` line dates its own value, `status` names the symbols
behind the latest close."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from bot.cli.main import main
from bot.store.db import Store
from tests.support.factories import price_frame


def test_check_and_status_name_the_late_symbol(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\npath = "{tmp_path / "s.sqlite"}"\n[data]\nsymbols = ["A", "B", "C"]\n\n'
        '[[rules]]\nname = "ab"\nmetric = "ratio"\nnumerator = "A"\ndenominator = "B"\n'
        'condition = "above"\nthreshold = 5\n\n'
        '[[rules]]\nname = "c"\nmetric = "close"\nsymbol = "C"\ncondition = "above"\nthreshold = 5\n'
    )
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("A", price_frame(np.ones(100), start="2024-01-01"))
    store.upsert_prices("B", price_frame(np.ones(100), start="2024-01-01"))
    store.upsert_prices("C", price_frame(np.ones(110), start="2024-01-01"))
    store.close()
    check = CliRunner().invoke(main, ["--config", str(cfg), "check"])
    assert "Rules as of 2024-05-31" in check.output
    [ab] = [line for line in check.output.splitlines() if line.startswith("  ab ")]
    assert " on 2024-05-17 " in ab  # its own value's day, not the header's
    status = CliRunner().invoke(main, ["--config", str(cfg), "status"])
    assert "behind it: A to 2024-05-17, B to 2024-05-17" in status.output
