"""`rotation-bot status` through the real CLI: JSON and table, exit 1 on stale data."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import main
from bot.store.db import Store
from tests.support.factories import price_frame


def test_status_command(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[store]\npath = "s.sqlite"\n[data]\nsymbols = ["^GSPC"]\n')
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("^GSPC", price_frame([1.0, 2.0], start="2024-07-02"))
    store.close()
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(tmp_path / "config.toml"), "status", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["latest_close"] == "2024-07-03"
    assert result.exit_code == 1 and any(w.startswith("stale data") for w in data["warnings"])
    table = runner.invoke(main, ["--config", str(tmp_path / "config.toml"), "status"])
    assert "daily job: last success never" in table.stdout
    assert "Warning: stale data" in table.stderr
