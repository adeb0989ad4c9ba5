"""Corrupted, truncated and wrong configs through the real CLI: one clear line each, exit 1, no traceback.

Each case has exactly one fault, so it must produce exactly one ``Error:`` line naming the file and
the place (section field, or rule and field). Unicode in messages is not a fault (rule names are ASCII:
they are typed in chat commands): it must load and reach the alert text intact.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import main
from bot.config.settings import parse_config
from bot.errors import ConfigFileError
from bot.store.db import Store
from tests.support.faultkit import DAY, seed_ratio_store

GOOD = """\
[store]
path = "store.sqlite"

[telegram]
allowed_chats = [111]

[data]
symbols = ["^GSPC", "^RUT"]
batch_size = 50

[universes]

[[rules]]
name = "rut-spx-above-0.4"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.4
message = "Small caps gaining: {value:.3f}"

[[rules]]
name = "breadth-above-75"
metric = "breadth"
universe = "sp500"
window = 200
condition = "crosses_above"
threshold = 75
"""


PREFIX = re.compile(r"^Error: (\S*/)?config\.toml: ")


def cli(path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(path), *(args or ("rules", "list"))])


def assert_clear_error(result: Result, *expected: str) -> str:
    """Exit 1, no traceback, one ``Error:`` line that names the file and contains ``expected``."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert PREFIX.match(lines[0]), lines
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "config.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_good_config_loads(tmp_path: Path) -> None:
    result = cli(write(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    assert "rut-spx-above-0.4" in result.stdout and "breadth-above-75" in result.stdout


# --- corrupted and truncated files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        ('threshold = 0.4\nmessage = "Small caps', "not valid TOML"),  # an unterminated string
        ('[[rules]]\nname = "breadth-above-75"\nmetric = "breadth"\nuniverse', "not valid TOML"),
        ('[data]\nsymbols = ["^GSPC", ', "not valid TOML"),  # an unclosed list
        ("[[rul", "not valid TOML"),  # half a table header
    ],
    ids=["string", "key", "list", "header"],
)
def test_truncated_at_a_bad_place(tmp_path: Path, cut: str, expected: str) -> None:
    text = GOOD[: GOOD.index(cut) + len(cut)]
    assert_clear_error(cli(write(tmp_path, text)), expected)


def test_every_truncation_loads_or_fails_in_one_clear_line(tmp_path: Path) -> None:
    """A config cut at any byte (a disk filled up, an editor crashed) never yields a traceback."""
    outcomes = {0: 0, 1: 0}
    for n in range(0, len(GOOD), 7):
        result = cli(write(tmp_path, GOOD[:n]))
        assert result.exit_code in (0, 1), (n, result.output, result.exception)
        assert "Traceback" not in result.output
        if result.exit_code == 1:
            lines = result.stderr.strip().splitlines()
            assert lines and all(PREFIX.match(line) for line in lines), (n, lines)
        outcomes[result.exit_code] += 1
    assert outcomes[0] and outcomes[1]  # both kinds happened, so the loop tested something


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(random.Random(6).getrandbits(8) for _ in range(300)), "not UTF-8 text"),
        (b"\x00\x00\x00\x00[store]\n", "not valid TOML"),
        ("[store]\npath = 'é'\n".encode("latin-1"), "not UTF-8 text"),
        (GOOD.encode("utf-16"), "not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),
    ],
    ids=["random-bytes", "nul-bytes", "latin-1", "utf-16", "png"],
)
def test_binary_garbage(tmp_path: Path, content: bytes, expected: str) -> None:
    assert_clear_error(cli(write(tmp_path, content)), expected)


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """Windows editors save UTF-8 with a BOM; that is still the user's valid config."""
    result = cli(write(tmp_path, "\ufeff" + GOOD))
    assert result.exit_code == 0, result.output


def test_an_empty_file_means_defaults(tmp_path: Path) -> None:
    result = cli(write(tmp_path, ""))
    assert result.exit_code == 0, result.output
    assert "rut-spx-above-0.4" in result.stdout


# --- unknown keys and wrong types ----------------------------------------------------------------


def with_line(after: str, line: str) -> str:
    """GOOD with ``line`` inserted after the first line equal to ``after``."""
    lines = GOOD.splitlines()
    i = lines.index(after)
    return "\n".join([*lines[: i + 1], line, *lines[i + 1 :]]) + "\n"


def replaced(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (with_line("[store]", "bogus = 1"), ('field "store.bogus"', "unknown key")),
        (with_line("[telegram]", "allow_chats = [1]"), ('field "telegram.allow_chats"', "unknown key")),
        (GOOD + "\n[nonsense]\nx = 1\n", ('field "nonsense"', "unknown key")),
        (
            with_line('name = "rut-spx-above-0.4"', "treshold = 0.5"),
            ('rule "rut-spx-above-0.4" field "treshold"', "unknown key", 'did you mean "threshold"'),
        ),
        (
            with_line('name = "breadth-above-75"', 'numerator = "^RUT"'),
            ('rule "breadth-above-75" field "numerator"', "unknown key"),
        ),
    ],
    ids=["store", "telegram", "section", "rule-typo", "rule-foreign-param"],
)
def test_unknown_keys(tmp_path: Path, text: str, expected: tuple[str, ...]) -> None:
    assert_clear_error(cli(write(tmp_path, text)), *expected)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("threshold = 0.4", 'threshold = "0,4"', ('field "threshold"', 'expected a number, got "0,4"')),
        ("threshold = 75", "threshold = true", ('field "threshold"', "expected a number, got true")),
        ("window = 200", "window = 20.5", ('field "window"', "whole number")),
        ("window = 200", 'window = "200"', ('field "window"', '"200"')),
        ('path = "store.sqlite"', "path = 5", ('field "store.path"', "expected text, got 5")),
        ("allowed_chats = [111]", 'allowed_chats = "111"', ('field "telegram.allowed_chats"', "expected a list")),
        ("allowed_chats = [111]", 'allowed_chats = ["me"]', ('field "telegram.allowed_chats.0"', '"me"')),
        ("batch_size = 50", "batch_size = 0", ('field "data.batch_size"', "≥ 1")),
        ('condition = "crosses_above"\nthreshold = 0.4', 'condition = "goes_up"\nthreshold = 0.4', ('"condition"',)),
        ('metric = "ratio"', 'metric = "ratioo"', ('unknown metric "ratioo"',)),
    ],
    ids=[
        "threshold-text",
        "threshold-bool",
        "window-float",
        "window-text",
        "path-int",
        "chats-text",
        "chat-text",
        "batch-zero",
        "condition",
        "metric",
    ],
)
def test_wrong_types(tmp_path: Path, old: str, new: str, expected: tuple[str, ...]) -> None:
    assert_clear_error(cli(write(tmp_path, replaced(old, new))), *expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules = 5\n", "array of tables"),
        ('store = "x"\n', 'field "store"'),
        ("universes = 3\n", 'field "universes"'),
        ('[schedule]\ntimezone = "Mars/Olympus"\n', 'field "schedule.timezone"'),
        ('[schedule]\ndaily_check = "25:00"\n', 'field "schedule.daily_check"'),
    ],
    ids=["rules-scalar", "section-text", "section-scalar", "timezone", "time"],
)
def test_wrong_shapes(tmp_path: Path, text: str, expected: str) -> None:
    assert_clear_error(cli(write(tmp_path, text)), expected)


# --- huge numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("threshold = 0.4", "threshold = 1e400", ('rule "rut-spx-above-0.4" field "threshold"', "finite", "inf")),
        ("threshold = 0.4", "threshold = -1e400", ('field "threshold"', "finite", "-inf")),
        ("threshold = 75", "threshold = nan", ('rule "breadth-above-75" field "threshold"', "finite", "nan")),
        ("window = 200", f"window = {10**30}", ('rule "breadth-above-75" field "window"', "≤")),
        ("window = 200", "window = -5", ('field "window"', "≥")),
        ("batch_size = 50", f"batch_size = {10**30}", ('field "data.batch_size"', "≤ 100")),
        ("allowed_chats = [111]", f"allowed_chats = [{10**25}]", ('field "telegram.allowed_chats.0"', "too large")),
        ('message = "Small', f'chats = [1, {10**20}]\nmessage = "Small', ('field "chats.1"', "too large")),
        ("threshold = 0.4", "threshold = 0.4\nfor_days = 100000000000", ('field "for_days"', "≤")),
    ],
    ids=["inf", "-inf", "nan", "window-1e30", "window-negative", "batch-1e30", "chat-1e25", "rule-chat", "for-days"],
)
def test_huge_numbers(tmp_path: Path, old: str, new: str, expected: tuple[str, ...]) -> None:
    assert_clear_error(cli(write(tmp_path, replaced(old, new))), *expected)


def test_every_problem_is_listed_one_per_line(tmp_path: Path) -> None:
    text = replaced("threshold = 0.4", "threshold = inf")
    text = text.replace("window = 200", f"window = {10**30}").replace("[store]", "[store]\nbogus = 1")
    result = cli(write(tmp_path, text))
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert all(PREFIX.match(line) for line in lines)
    assert {'"store.bogus"', '"threshold"', '"window"'} == {
        next(f for f in ('"store.bogus"', '"threshold"', '"window"') if f in line) for line in lines
    }


# --- unicode is not a fault ----------------------------------------------------------------------

UNICODE_RULE = """\
[store]
path = "store.sqlite"

[data]
symbols = ["^GSPC", "^RUT"]

[universes]

[[rules]]
name = "malye-kapy-0.4"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.4
message = "Рост малых компаний: {value:.3f} — 小型株 ✓ (ملاحظة)"
"""


def test_unicode_messages_work_end_to_end(tmp_path: Path) -> None:
    """Names are typed in chat commands, so they are ASCII (tests/unit/test_input_bounds.py); messages are any text."""
    path = write(tmp_path, UNICODE_RULE)
    listed = cli(path)
    assert listed.exit_code == 0, listed.output
    assert "malye-kapy-0.4" in listed.stdout
    store = Store(tmp_path / "store.sqlite")
    try:
        seed_ratio_store(store)
    finally:
        store.close()
    checked = cli(path, "check", "--as-of", DAY.isoformat(), "--format", "json")
    assert checked.exit_code == 0, checked.output
    alerts = json.loads(checked.stdout)["alerts"]
    assert [a["rule"] for a in alerts] == ["malye-kapy-0.4"]
    assert alerts[0]["message"].startswith("Рост малых компаний: 0.420 — 小型株 ✓ (ملاحظة)")


def test_unicode_in_a_bad_value_is_quoted_not_crashed(tmp_path: Path) -> None:
    text = replaced('metric = "ratio"', 'metric = "соотношение✓"')
    assert_clear_error(cli(write(tmp_path, text)), 'unknown metric "соотношение✓"')


def test_a_rule_chat_must_be_an_allowed_chat(tmp_path: Path) -> None:
    rule = {"name": "r", "metric": "close", "symbol": "A", "condition": "above", "threshold": 1, "chats": [5, 7]}
    with pytest.raises(ConfigFileError) as err:
        parse_config({"telegram": {"allowed_chats": [5]}, "rules": [rule]})
    assert (
        str(err.value)
        == 'config.toml: rule "r" field "chats": chat ids [7] are not in [telegram] allowed_chats or admin_chats'
    )
    assert parse_config({"telegram": {"allowed_chats": [5], "admin_chats": [7]}, "rules": [rule]}).rules[
        0
    ].spec.chats == [5, 7]
