"""Start-up: commands that need no data science import none of it (whole processes, -X importtime)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import Store
from tests.support.paths import REPO

HEAVY = ("pandas", "numpy", "matplotlib", "telegram", "yfinance", "exchange_calendars", "sqlite_utils")
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.M)


def imported(args: list[str], cwd: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return {m.split(".")[0] for m in IMPORTED.findall(out.stderr)}


@pytest.mark.parametrize(
    "args",
    [["--help"], ["check", "--help"], ["fetch", "--help"], ["run", "--help"], ["rules", "list"], ["rules", "check"]],
    ids=" ".join,
)
def test_light_commands_import_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    (tmp_path / "config.toml").write_text(f'[store]\npath = "{store}"\n')
    heavy = sorted(imported(args, tmp_path) & set(HEAVY))
    assert heavy == [], f"rotation-bot {' '.join(args)} imports {heavy}"
    assert not store.exists()  # and none of them creates the store


def test_rules_check_reads_an_existing_store_without_heavy_imports(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    Store(store_path).close()
    (tmp_path / "config.toml").write_text(f'[store]\npath = "{store_path}"\n')
    assert imported(["rules", "check"], tmp_path).isdisjoint(HEAVY)


def test_every_package_table_of_contents_resolves() -> None:
    """Each name an __init__.pyi promises exists in its module (a typo would fail only on first use)."""
    code = (
        "import importlib, bot\n"
        "for pkg in ['bot', 'rules', 'bot.config', 'bot.store', 'bot.market', 'bot.ingest', 'bot.answers',"
        " 'bot.jobs', 'bot.chat', 'bot.telegram']:\n"
        "    m = importlib.import_module(pkg)\n"
        "    for name in m.__all__:\n"
        "        assert getattr(m, name) is not None, (pkg, name)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=120)
