"""requirements.lock keeps pace with pyproject.toml: every range is met by the locked version, every pin is hashed.

A range widened or a dependency added without `make lock` fails here, with the package named, rather than on a
newcomer's machine as an install that resolves something else.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import REPO

PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked(path: str) -> dict[str, list[tuple[str, str | None]]]:
    """Each package's pins in a lock, with the marker of each (a universal lock pins some per Python version)."""
    pins: dict[str, list[tuple[str, str | None]]] = {}
    for line in (REPO / path).read_text(encoding="utf-8").splitlines():
        if m := PIN.match(line):
            pins.setdefault(canonicalize_name(m["name"]), []).append((m["version"], m["marker"]))
    return pins


def pinned_here(pins: list[tuple[str, str | None]]) -> list[str]:
    """The versions that apply to this interpreter."""
    return [v for v, marker in pins if marker is None or Marker(marker).evaluate()]


def wanted() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    names = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["dev"]
    return [Requirement(r) for r in names + project["build-system"]["requires"]]


@pytest.mark.parametrize("requirement", wanted(), ids=str)
def test_every_range_of_pyproject_is_met_by_the_lock(requirement: Requirement) -> None:
    pins = locked("requirements.lock").get(canonicalize_name(requirement.name))
    assert pins, f"{requirement.name} is not in requirements.lock: run make lock"
    here = pinned_here(pins)
    assert len(here) == 1, (requirement.name, pins)
    assert requirement.specifier.contains(here[0], prereleases=True), (
        f"requirements.lock pins {requirement.name}=={here[0]}, outside {requirement.specifier}: run make lock"
    )


@pytest.mark.parametrize("path", ["requirements.lock", "tools.lock"])
def test_every_pin_carries_its_hashes(path: str) -> None:
    """``--require-hashes`` refuses a lock with one unhashed line; this names it before an install does."""
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    entries = [i for i, line in enumerate(lines) if line and not line[0].isspace() and not line.startswith("#")]
    assert entries
    for start, end in zip(entries, [*entries[1:], len(lines)], strict=True):
        assert PIN.match(lines[start]), lines[start]
        assert any(line.strip().startswith("--hash=sha256:") for line in lines[start:end]), lines[start]
