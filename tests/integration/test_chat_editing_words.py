"""What a newcomer trips on when editing from chat: several keys in one /set, /help COMMAND, a /watch line that
does not fit its metric, and the words an edit leaves stale (a comment or a name holding the old value)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answers import edit_summary
from bot.chat import COMMANDS, Service
from bot.store import edits
from tests.support.editing import apply_of, say, shipped_service
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ADMIN, EDITOR

RULE = "rut-spx-above-0.4"


@pytest.fixture
def svc(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    yield from shipped_service(tmp_path, tg.base_url)


# --- A: several KEY VALUE pairs are one edit ---------------------------------------------------------------


async def test_set_with_several_pairs_is_one_preview_one_history_entry_and_one_undo(svc: Service) -> None:
    assert svc.config_path is not None
    original = svc.config_path.read_bytes()
    reply = await say(svc, EDITOR, f"/set {RULE} threshold 0.41 hysteresis 0.005")
    text = html.unescape(reply.text)
    assert "+threshold = 0.41" in text and "+hysteresis = 0.005" in text
    assert f'rule "{RULE}": threshold 0.4 → 0.41, hysteresis 0.01 → 0.005' in text
    assert reply.text.count("<pre>") == 2  # one diff, one what-if
    assert (await apply_of(svc, reply)).text.startswith("✅ Applied")
    spec = next(r for r in svc.config.rules if r.name == RULE).spec
    assert (spec.threshold, spec.hysteresis) == (0.41, 0.005)
    [entry] = edits.edits(svc.store)
    assert edit_summary(entry) == f'rule "{RULE}": threshold 0.4 → 0.41, hysteresis 0.01 → 0.005'
    assert (await apply_of(svc, await say(svc, EDITOR, "/undo"))).text.startswith("✅ Applied")
    assert svc.config_path.read_bytes() == original


async def test_a_value_with_spaces_is_still_one_value(svc: Service) -> None:
    reply = html.unescape((await say(svc, EDITOR, f"/set {RULE} message ratio threshold crossed")).text)
    assert '+message = "ratio threshold crossed"' in reply
    both = html.unescape((await say(svc, EDITOR, f"/set {RULE} for_days 2 message up 2 days")).text)
    assert "+for_days = 2" in both and '+message = "up 2 days"' in both
    assert "Usage: /set" in (await say(svc, EDITOR, f"/set {RULE} threshold 0.41 hysteresis")).text


# --- B: /help COMMAND --------------------------------------------------------------------------------------


async def test_help_command_answers_its_usage_line_with_its_example(svc: Service) -> None:
    reply = await say(svc, EDITOR, "/help set")
    assert "Usage: /set RULE KEY VALUE [KEY VALUE…]" in reply.text
    assert "e.g. /set rut-spx-above-0.4 threshold 0.42" in reply.text
    for command in [c for c in COMMANDS if c.menu]:  # Apply and Cancel are buttons, not commands to look up
        text = (await say(svc, ADMIN, f"/help {command.name}")).text
        assert f"/{command.name}" in text and command.help.replace("&", "&amp;") in text, command.name
    assert "Unknown command /nope" in (await say(svc, EDITOR, "/help nope")).text
    assert "Usage: /watch" in (await say(svc, EDITOR, "/help /watch")).text  # a leading slash is fine


# --- C: /watch says what was wrong, with an example for that metric -----------------------------------------


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("/watch breadth sp500 above 75", "breadth takes no parameters before the condition"),
        ("/watch sma_distance SPY 50 above 5", "sma_distance takes SYMBOL before the condition"),
        ("/watch close SPY belwo 500", 'no condition in the line ("belwo": did you mean below?)'),
        ("/watch bredth above 75", 'unknown metric "bredth" (did you mean breadth?)'),
        ("/watch close SPY between 400", "between takes LOW HIGH"),
    ],
)
async def test_a_watch_that_does_not_fit_says_why_with_an_example_for_its_metric(
    svc: Service, line: str, said: str
) -> None:
    reply = await say(svc, EDITOR, line)
    assert said in reply.text.replace("&quot;", '"'), reply.text
    assert "e.g. /watch" in reply.text and not reply.buttons
    metric = line.split()[1]
    if metric != "bredth":
        assert f"e.g. /watch {metric} " in reply.text


async def test_watch_a_symbol_without_stored_prices_is_refused_in_one_line(svc: Service) -> None:
    reply = await say(svc, EDITOR, "/watch close NOPE below 500")
    assert reply.text.startswith("⚠️ no stored prices for NOPE") and "\n" not in reply.text
    assert not reply.buttons
    assert (await say(svc, EDITOR, "/watch close ^GSPC below 500")).buttons  # a stored one is previewed


# --- D: words an edit leaves stale -------------------------------------------------------------------------


async def test_a_preview_flags_a_comment_and_a_name_that_hold_the_old_value(svc: Service) -> None:
    reply = await say(svc, EDITOR, f"/set {RULE} threshold 0.42")
    [note] = [line for line in reply.text.splitlines() if "still" in line]
    assert "comment" in note and "0.4" in note
    assert f"/rename {RULE} rut-spx-above-0.42" in note
    quiet = await say(svc, EDITOR, f"/set {RULE} for_days 2")
    assert not [line for line in quiet.text.splitlines() if "still" in line]


async def test_the_disable_preview_shows_no_firings_when_edited(svc: Service) -> None:
    reply = await say(svc, EDITOR, f"/disable {RULE}")
    firings = next(line for line in reply.text.splitlines() if line.startswith("firings"))
    assert firings.split()[-1] == "0", firings
