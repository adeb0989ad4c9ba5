"""The shipped systemd unit (deploy/rotation-bot.service): systemd's own checker passes it, and it runs the bot as
the README promises: its own user, after the network, the token from a root-only file, restarted always, fed a
watchdog, the system read-only but for the store's folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest

from tests.support.paths import REPO

UNIT = REPO / "deploy" / "rotation-bot.service"
INSTALLED = "/opt/rotation-bot/.venv/bin/rotation-bot"  # where the README's install steps put the command
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed here (Debian/Ubuntu: apt-get install systemd)"
)


def settings() -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit, by key (a key may repeat)."""
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def verify(unit_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on the unit as installed, the command being this checkout's (verify checks that
    ExecStart's program exists and is executable)."""
    command = Path(sys.executable).parent / "rotation-bot"
    assert command.is_file(), "make setup first"
    unit = folder / "rotation-bot.service"
    unit.write_text(unit_text.replace(INSTALLED, str(command)))
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=120)


@needs_analyze
def test_systemd_analyze_verify_passes_without_a_word(tmp_path: Path) -> None:
    done = verify(UNIT.read_text(), tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@needs_analyze
def test_verify_would_catch_a_misspelt_key(tmp_path: Path) -> None:
    """The check above could fail: verify exits 0 on an unknown key, but says so on stderr."""
    done = verify(UNIT.read_text().replace("WatchdogSec=", "WatchdgSec="), tmp_path)
    assert "Unknown key 'WatchdgSec'" in done.stderr


def test_the_unit_runs_the_bot_as_a_service_should() -> None:
    unit = settings()
    assert unit["User"][0] not in ("", "root")
    assert unit["After"] == ["network-online.target"] and unit["Wants"] == ["network-online.target"]
    assert unit["Type"] == ["notify"] and float(unit["WatchdogSec"][0]) > 0
    assert unit["Restart"] == ["always"]
    assert unit["EnvironmentFile"] == ["/etc/rotation-bot/token.env"] and "Environment" in unit
    assert not any("TOKEN" in v for v in unit["Environment"])  # no token in the unit itself
    assert unit["ProtectSystem"] == ["strict"] and unit["NoNewPrivileges"] == ["yes"]
    command = unit["ExecStart"][0].split()
    assert command[0] == INSTALLED and command[-1] == "run" and "--console" not in command
    # The store the shipped config names, relative to the config's folder, lies inside the one writable folder.
    config = PurePosixPath(command[command.index("--config") + 1])
    store = config.parent / tomllib.loads((REPO / "config.toml").read_text())["store"]["path"]
    state = PurePosixPath("/var/lib") / unit["StateDirectory"][0]
    assert config.parent == state == PurePosixPath(unit["WorkingDirectory"][0])
    assert store.is_relative_to(state) and unit["ReadWritePaths"] == [str(state)]
