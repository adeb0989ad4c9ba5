"""rules/ is pure: importing it, or reading its sources, reaches nothing from bot/ or the I/O edges."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.support.paths import REPO

FORBIDDEN = ("bot", "sqlite3", "sqlite_utils", "telegram", "yfinance", "httpx", "requests", "urllib3")


def test_rules_imports_nothing_from_the_io_edges() -> None:
    code = (
        "import sys, rules\n"
        "[getattr(rules, name) for name in rules.__all__]\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == ""


def test_rules_sources_import_only_pure_modules() -> None:
    for path in sorted((REPO / "rules").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
