"""Admin commands through the shared command code: /consensus feeds the CPI surprise."""

from __future__ import annotations

from pathlib import Path

from bot.chat import CommandContext, dispatch
from bot.chat.service import Service
from bot.market.cpi import cpi_frame
from bot.store.db import Store
from tests.support.tg_helpers import ADMIN, ALLOWED, tg_config


def service(tmp_path: Path) -> Service:
    config = tg_config(tmp_path, rules=[])
    store = Store(config.store_path)
    store.set_cpi_releases([("2024-06", "2024-07-11", "08:30")])
    return Service(config, store)


async def test_consensus_is_stored_for_the_cpi_surprise(tmp_path: Path) -> None:
    svc = service(tmp_path)
    reply = await dispatch(CommandContext(svc, ADMIN, admin=True), "/consensus 2024-06 headline_yoy 3,1%")
    assert reply.text == "Consensus for CPI 2024-06 headline_yoy: 3.1%."
    frame = cpi_frame(svc.store, svc.config)
    assert frame is not None
    assert frame["expected_headline_yoy"].tolist() == [3.1]
    reply = await dispatch(CommandContext(svc, ADMIN, admin=True), "/consensus 2024-06 core_yoy 3")
    assert reply.text == "Consensus for CPI 2024-06 core_yoy: 3.0%."


async def test_consensus_needs_an_admin_and_good_arguments(tmp_path: Path) -> None:
    svc = service(tmp_path)
    reply = await dispatch(CommandContext(svc, ALLOWED, admin=False), "/consensus 2024-06 headline_yoy 3.1")
    assert reply.text == "/consensus is for admins only."
    admin = CommandContext(svc, ADMIN, admin=True)
    for bad in (
        "/consensus",
        "/consensus 2024-06 headline 3.1",
        "/consensus 2024-6x core_mom 0.2",
        "/consensus a b c d",
    ):
        assert "Usage: /consensus YYYY-MM MEASURE PERCENT" in (await dispatch(admin, bad)).text
    assert (await dispatch(admin, "/consensus 2024-06 core_mom abc")).text.startswith("expected a percent like 3.1")
