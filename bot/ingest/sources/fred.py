"""The live CPI source: FRED's CSV download for CPIAUCSL (headline) and CPILFESL (core).

FRED serves the latest vintage only, so each fetch stores ``vintage="latest"``; the store stamps a
month's ``first_seen`` when it first appears, which is what makes a live fetch point in time. The
CSV is parsed by the same ``parse_fred_csv`` the offline csv source uses.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from tenacity.wait import WaitBaseT

from bot.ingest.sources.csvdir import parse_fred_csv
from bot.store import Store

log = logging.getLogger(__name__)

CPI_SERIES = ("CPIAUCSL", "CPILFESL")
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


def _retryable(exc: BaseException) -> bool:
    """Timeouts, dropped connections, 429 and 5xx are worth another try; a 404 is not, and neither is a
    host that does not resolve or refuses connections (the network is down: retrying only delays the news)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError) and _network_down(exc) is None


def _network_down(exc: BaseException) -> str | None:
    """'cannot resolve HOST' or 'connection refused by HOST:PORT' when that is what ``exc`` means."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    url = exc.request.url
    chain = [exc, *_causes(exc)]
    if (
        any(isinstance(e, socket.gaierror) for e in chain)
        or "name resolution" in str(exc).lower()
        or "name or service not known" in str(exc).lower()
        or "nodename" in str(exc).lower()
    ):
        return f"network unreachable (cannot resolve {url.host})"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in str(exc).lower():
        return f"network unreachable (connection refused by {url.host}:{url.port or 443})"
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    out = []
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        out.append(exc)
    return out


@dataclass
class FredResult:
    """Per series: observations changed in the store, the last month with a value, or why it failed."""

    changed: dict[str, int] = field(default_factory=dict)
    last_month: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    calls: int = 0


class FredSource:
    """Downloads FRED CSVs with a timeout and retries; ``client`` may carry a test transport."""

    name = "fred"

    def __init__(
        self,
        url_template: str = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}",
        retries: int = 4,
        client: httpx.Client | None = None,
        wait: WaitBaseT | None = None,
    ) -> None:
        self.url_template = url_template
        self.retries = retries
        self.client = client
        self.wait = wait if wait is not None else wait_exponential(multiplier=2, min=2, max=60)

    def download(self, series: str) -> tuple[str, int]:
        """The CSV text of one series (and how many HTTP calls it took)."""
        client = self.client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
        calls = 0
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.retries + 1),
                wait=self.wait,
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    calls += 1
                    response = client.get(self.url_template.format(series=series))
                    response.raise_for_status()
                    return response.text, calls
        finally:
            if self.client is None:
                client.close()
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def fetch_into(self, store: Store, series: Sequence[str] = CPI_SERIES) -> FredResult:
        """Fetch each series and upsert it as the latest vintage; failures are reported, not raised."""
        result = FredResult()
        for sid in series:
            try:
                text, calls = self.download(sid)
                result.calls += calls
                rows = parse_fred_csv(text)
            except (httpx.HTTPError, RetryError, ValueError) as exc:
                result.failures[sid] = _describe(exc)
                log.warning("fred: %s failed: %s", sid, result.failures[sid])
                if result.failures[sid].startswith("network unreachable"):  # the next series would fail alike
                    result.failures.update({s: result.failures[sid] for s in series if s not in result.changed})
                    break
                continue
            if not rows:
                result.failures[sid] = "FRED returned no observations"
                continue
            result.changed[sid] = store.upsert_cpi_observations(sid, rows, vintage="latest")
            months = [m for m, v in rows if v is not None]
            if months:
                result.last_month[sid] = max(months)
        return result


def _describe(exc: BaseException) -> str:
    down = _network_down(exc)
    if down:
        return down
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url.host}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {exc}"
    return str(exc) or type(exc).__name__
