"""The exchanges ``[schedule] exchange`` may name: exchange-calendars' calendars and their aliases.

Written out rather than asked of the library, because importing exchange-calendars imports pandas (half a
second), and ``rules check`` and ``--help`` must stay quick. The list is a fast path, not the authority: a name it
lacks is asked of the installed library before it is refused, so a calendar added by a newer exchange-calendars
(``XDFM`` in 4.13) works without a release of ours. A test checks that every written name is the library's.
"""

from __future__ import annotations

EXCHANGES = frozenset(
    {
        "24/5",
        "24/7",
        "AIXK",
        "ARCX",
        "ASEX",
        "ASX",
        "BATS",
        "BMF",
        "BSE",
        "BVB",
        "BVMF",
        "CBOT",
        "CFE",
        "CME",
        "CMES",
        "COMEX",
        "FWB",
        "HKEX",
        "ICE",
        "ICEUS",
        "IEPA",
        "JKT",
        "JPX",
        "LSE",
        "LUXSE",
        "NASDAQ",
        "NYFE",
        "NYMEX",
        "NYSE",
        "OOTC",
        "OSE",
        "SIX",
        "SSE",
        "TASE",
        "TSX",
        "XAMS",
        "XASE",
        "XASX",
        "XBDA",
        "XBEL",
        "XBKK",
        "XBOG",
        "XBOM",
        "XBRA",
        "XBRU",
        "XBSE",
        "XBUD",
        "XBUE",
        "XCBF",
        "XCSE",
        "XCYS",
        "XDUB",
        "XDUS",
        "XEEE",
        "XETR",
        "XEUR",
        "XFRA",
        "XHAM",
        "XHEL",
        "XHKG",
        "XICE",
        "XIDX",
        "XIST",
        "XJSE",
        "XKAR",
        "XKLS",
        "XKRX",
        "XLIM",
        "XLIS",
        "XLIT",
        "XLJU",
        "XLON",
        "XLUX",
        "XMAD",
        "XMEX",
        "XMIL",
        "XMOS",
        "XNAS",
        "XNYS",
        "XNZE",
        "XOSL",
        "XPAR",
        "XPHS",
        "XPRA",
        "XRIS",
        "XSAU",
        "XSES",
        "XSGO",
        "XSHG",
        "XSTO",
        "XSTU",
        "XSWX",
        "XTAE",
        "XTAI",
        "XTAL",
        "XTKS",
        "XTSE",
        "XTSX",
        "XWAR",
        "XWBO",
        "XZAG",
        "us_futures",
    }
)


def known_exchange(name: str) -> bool:
    """True when exchange-calendars knows ``name``; the library is imported only for a name the list lacks."""
    if name in EXCHANGES:
        return True
    try:
        import exchange_calendars
    except ImportError:  # pragma: no cover - it is a dependency; without it the written list is all we know
        return False
    return name in exchange_calendars.get_calendar_names(include_aliases=True)
