"""One chat's backlog never holds up another: chats are handled at once, each in its own order, with a budget.

The real PTB Application polls the fake Bot API. The chart renderer is replaced by one that waits
for the test to release it, so "while chat A's chart is still being drawn" is a state the test holds,
not a race against the clock: no assertion here depends on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from bot.chat import ask as ask_module
from bot.chat.service import Service
from bot.telegram.chats import HEAVY_PER_CHAT
from tests.support.fake_telegram import FakeTelegram, Request
from tests.support.tg_helpers import ADMIN, ALLOWED, build, running

A, OTHER = ALLOWED, ADMIN  # two allowed chats
PNG = b"\x89PNG a chart"


class Gate:
    """A chart renderer that waits until released; counts the charts it started."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started = 0
        self._lock = threading.Lock()

    def render(self, store: object, config: object, metric: str, period: str) -> bytes:
        with self._lock:
            self.started += 1
        self.open.wait(60)  # released by the test (or its teardown)
        return PNG


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    monkeypatch.setattr(ask_module, "render_chart", g.render)
    yield g
    g.open.set()  # never leave a worker thread waiting


def answers(tg: FakeTelegram, chat: int) -> list[Request]:
    return tg.calls("sendMessage", chat) + tg.calls("sendPhoto", chat)


def busy(tg: FakeTelegram, chat: int) -> list[Request]:
    return [r for r in tg.sent(chat) if "busy" in r.text.lower()]


async def until(tg: FakeTelegram, gate: Gate, predicate: Callable[[], bool]) -> None:
    """Wait for ``predicate``; on failure release the charts first, so the Application can stop."""
    try:
        await tg.wait_until(predicate, timeout=15)
    except AssertionError:
        gate.open.set()
        raise


async def test_another_chat_is_answered_while_a_chart_is_drawn(tg: FakeTelegram, service: Service, gate: Gate) -> None:
    """Handled one update at a time, OTHER's /ratio waited for A's chart (seconds, for a chart of all history)."""
    async with running(build(service)):
        tg.push_text(A, "/chart ratio max")
        await until(tg, gate, lambda: gate.started == 1)
        tg.push_text(A, "/ratio")  # A's own next command waits for A's chart
        tg.push_text(OTHER, "/ratio")
        await until(tg, gate, lambda: len(tg.sent(OTHER)) == 1)
        assert "^RUT / ^GSPC" in tg.sent(OTHER)[0].text
        assert answers(tg, A) == []  # the chart is still being drawn, and A's /ratio waits behind it
        gate.open.set()
        await until(tg, gate, lambda: len(tg.sent(A)) == 2)
    assert [r.method for r in tg.sent(A)] == ["sendPhoto", "sendMessage"]  # A's answers in A's order
    assert "^RUT / ^GSPC" in tg.sent(A)[1].text


async def test_a_chat_over_its_heavy_budget_is_told_to_try_again(
    tg: FakeTelegram, service: Service, gate: Gate
) -> None:
    """Thirty charts from one chat queued thirty full-history renders; now the budget's worth, and one busy line."""
    async with running(build(service)):
        for _ in range(HEAVY_PER_CHAT + 3):
            tg.push_text(A, "/chart ratio max")
        await until(tg, gate, lambda: len(busy(tg, A)) == 1)  # answered at once, while the first chart is drawn
        assert tg.calls("sendPhoto", A) == []
        tg.push_text(A, "/ratio")  # light commands are not budgeted: queued behind the charts, in order
        gate.open.set()
        await until(
            tg, gate, lambda: len(tg.calls("sendPhoto", A)) == HEAVY_PER_CHAT and len(tg.sent(A)) == 2 + HEAVY_PER_CHAT
        )
        assert gate.started == HEAVY_PER_CHAT
        assert "^RUT / ^GSPC" in tg.sent(A)[-1].text
        assert len(busy(tg, A)) == 1  # one line per burst, not one per refused command
        tg.push_text(A, "/chart ratio")  # the backlog is done: the budget is back
        await until(tg, gate, lambda: len(tg.calls("sendPhoto", A)) == HEAVY_PER_CHAT + 1)
    assert len(busy(tg, A)) == 1


async def test_chart_buttons_count_against_the_budget(tg: FakeTelegram, service: Service, gate: Gate) -> None:
    """A pressed 📈 Chart is the same heavy work as typing /chart; over the budget the press itself says busy."""
    from bot.chat import alert_buttons

    chart_button = alert_buttons("rut-spx-above-0.4")[0][0].data
    async with running(build(service)):
        for _ in range(HEAVY_PER_CHAT):
            tg.push_press(A, chart_button)
        await until(tg, gate, lambda: gate.started == 1)
        tg.push_press(A, chart_button)
        await until(
            tg,
            gate,
            lambda: any("busy" in str(r.params.get("text", "")).lower() for r in tg.calls("answerCallbackQuery")),
        )
        gate.open.set()
        await until(tg, gate, lambda: len(tg.calls("sendPhoto", A)) == HEAVY_PER_CHAT)
    assert gate.started == HEAVY_PER_CHAT
