"""The one safe HTTP fetcher for uploads and feeds: public addresses only, capped, polite."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import ipaddress
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import metadata
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_TOTAL_TIMEOUT = 30.0
DEFAULT_HOST_INTERVAL = 2.0
CHUNK = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services answer on these; named apart so the refusal says what it was.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


# --- errors -------------------------------------------------------------------------------


class FetchError(Exception):
    """A fetch that did not return a body; `str()` is one line a user can read."""


class BadScheme(FetchError):
    """The URL is not http or https."""


class BadURL(FetchError):
    """The URL cannot be fetched as written (no host, a non-canonical numeric address)."""


class RefusedAddress(FetchError):
    """The host resolves to an address that is not public; refused before connecting."""


class TooLarge(FetchError):
    """The response is larger than the caller's cap."""


class TooManyRedirects(FetchError):
    """More than MAX_REDIRECTS redirects."""


class RedirectLoop(TooManyRedirects):
    """A redirect leads back to a URL already visited."""


class Timeout(FetchError):
    """Connecting or the whole request took longer than allowed."""


class ConnectionFailed(FetchError):
    """The host could not be resolved or reached, or the connection broke."""


class HTTPStatusError(FetchError):
    """The server answered with an error status (or a redirect without a Location)."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        """`retry_after` is in seconds, from the Retry-After header when the server sent one."""
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


# --- address policy -----------------------------------------------------------------------


def refusal_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public one to fetch from, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one reaches that IPv4 host: judge that.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal_reason(embedded)
    checks: tuple[tuple[bool, str], ...] = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (
            isinstance(address, ipaddress.IPv4Address) and address in CGNAT,
            "a shared (CGNAT) address",
        ),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _normal_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class GuardedResolver(AbstractResolver):
    """Resolves through `inner`, then refuses the host unless every address is public."""

    def __init__(
        self,
        inner: AbstractResolver | None = None,
        *,
        private_hosts: Iterable[str] = (),
    ) -> None:
        """`private_hosts` skip the check (an intranet, the tests' local server)."""
        self._owns_inner = inner is None
        self.inner: AbstractResolver = inner if inner is not None else aiohttp.ThreadedResolver()
        self.private_hosts = frozenset(_normal_host(h) for h in private_hosts if h.strip())

    def allows_private(self, host: str) -> bool:
        """Whether `host` is on the allow-list for non-public addresses."""
        return _normal_host(host) in self.private_hosts

    def check(self, host: str, addresses: Iterable[IPAddress]) -> None:
        """Raise RefusedAddress unless `host` is allow-listed or every address is public."""
        if self.allows_private(host):
            return
        for address in addresses:
            reason = refusal_reason(address)
            if reason is not None:
                # The address itself stays out of the message: it would map internal DNS.
                what = "is" if _literal_address(host) is not None else "resolves to"
                raise RefusedAddress(f"{host} {what} {reason}; only public addresses are fetched")

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Every address `inner` gives, or RefusedAddress if any of them is not public."""
        results = await self.inner.resolve(host, port, family)
        addresses: list[IPAddress] = []
        for result in results:
            address = _literal_address(result["host"])
            if address is None:
                raise RefusedAddress(f"{host} resolves to something that is not an IP address")
            addresses.append(address)
        if not addresses:
            raise ConnectionFailed(f"could not resolve {host}")
        self.check(host, addresses)
        return results

    async def close(self) -> None:
        """Close the inner resolver when this one made it."""
        if self._owns_inner:
            await self.inner.close()


# --- results and politeness ---------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """A successful (or not-modified) response, its body read in full within the cap."""

    status: int
    url: str
    headers: CIMultiDictProxy[str]
    body: bytes
    content_type: str | None
    charset: str | None
    not_modified: bool
    etag: str | None
    last_modified: str | None
    redirects: tuple[str, ...] = field(default=())


@dataclass
class _HostSlot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_end: float | None = None


def default_user_agent() -> str:
    """`briefbot/<version> (+<homepage>)` from package metadata; no homepage, no address."""
    # The homepage comes from `[project.urls]` in pyproject.toml; none is made up here.
    try:
        meta = metadata.metadata("briefbot")
    except metadata.PackageNotFoundError:
        return "briefbot/0+unknown"
    agent = f"briefbot/{meta['Version']}"
    # "Project-URL: Homepage, https://…"; the first listed address names the project.
    urls = [entry.split(",", 1)[-1].strip() for entry in meta.get_all("Project-URL") or []]
    home = next((u for u in urls if u.startswith("https://")), None)
    return f"{agent} (+{home})" if home else agent


def _display(url: URL) -> str:
    """The URL for messages and logs: no credentials, no query (signed CDN links carry keys)."""
    if url.absolute:
        url = url.with_user(None)
    shown = str(url.with_query(None).with_fragment(None))
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _retry_after(headers: Mapping[str, str], now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if any."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    # Measured from the server's own Date when it sent one, so clock skew does not count.
    base = now
    date_header = headers.get("Date")
    if date_header:
        try:
            base = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            base = now
        if base.tzinfo is None:
            base = base.replace(tzinfo=dt.UTC)
    return max(0.0, (when - base).total_seconds())


def _check_url(url: URL) -> str:
    """The host to fetch from, or BadScheme/BadURL."""
    if not url.scheme:
        raise BadURL("that link is not an absolute http or https URL")
    if url.scheme not in ("http", "https"):
        raise BadScheme(f"only http and https links can be fetched, not {url.scheme}")
    host = url.raw_host
    if not host:
        raise BadURL(f"{_display(url)} has no host")
    labels = _normal_host(host).split(".")
    # 127.1, 2130706433 and 0x7f.0.0.1 are loopback to the C resolver; refuse the disguise.
    if all(NUMERIC_LABEL.match(label) for label in labels) and _literal_address(host) is None:
        raise BadURL(f"{host} is not a canonical address")
    return host


# --- the fetcher --------------------------------------------------------------------------


class Fetcher:
    """Fetches http(s) URLs from public addresses only, within a size cap and timeouts."""

    def __init__(
        self,
        *,
        private_hosts: Iterable[str] = (),
        resolver: AbstractResolver | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        host_interval: float = DEFAULT_HOST_INTERVAL,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        user_agent: str | None = None,
    ) -> None:
        """`resolver` is the plain lookup the guard wraps; `clock`/`sleep` pace each host."""
        # Tests map names to 127.0.0.x through `resolver`. `host_interval` is the least time
        # between the end of one request to a host and the start of the next; `clock` and
        # `sleep` default to the event loop's.
        self.guard = GuardedResolver(resolver, private_hosts=private_hosts)
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.host_interval = host_interval
        self._clock = clock
        self._sleep = sleep
        self.user_agent = user_agent or default_user_agent()
        self._session: aiohttp.ClientSession | None = None
        self._slots: dict[str, _HostSlot] = {}

    async def __aenter__(self) -> Self:
        """Open the session (its connector resolves through the guard)."""
        connector = aiohttp.TCPConnector(
            resolver=self.guard,
            # Each hop resolves afresh, and the checked answer is the one connected to.
            use_dns_cache=False,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers={"User-Agent": self.user_agent},
            timeout=aiohttp.ClientTimeout(
                total=None, connect=self.connect_timeout, sock_connect=self.connect_timeout
            ),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the session and the resolver."""
        await self.close()

    async def close(self) -> None:
        """Close the session and the resolver (safe to call twice)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await self.guard.close()

    async def vet(self, url: str, *, lookup_seconds: float | None = None) -> None:
        """Judge `url` as `get` judges its first hop, without connecting: the scheme, the host
        and every address it resolves to (BadScheme, BadURL, RefusedAddress; ConnectionFailed
        or Timeout when the name is not looked up within `lookup_seconds`, default connect's)."""
        try:
            parsed = URL(url)
        except (ValueError, TypeError) as exc:
            raise BadURL("that link is not a valid URL") from exc
        host = _check_url(parsed)
        literal = _literal_address(host)
        if literal is not None:
            self.guard.check(host, [literal])
            return
        if self.guard.allows_private(host):
            return
        limit = self.connect_timeout if lookup_seconds is None else lookup_seconds
        try:
            async with asyncio.timeout(limit):
                await self.guard.resolve(host, parsed.port or 0, socket.AF_UNSPEC)
        except TimeoutError as exc:
            raise Timeout(f"looking up {host} took longer than {limit:g} s") from exc
        except FetchError:
            raise
        except OSError as exc:
            raise ConnectionFailed(f"could not resolve {host}") from exc

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    @asynccontextmanager
    async def _host_turn(self, host: str) -> AsyncIterator[None]:
        """One request at a time per host, `host_interval` after the previous one ended."""
        key = _normal_host(host)
        slot = self._slots.setdefault(key, _HostSlot())
        async with slot.lock:
            if slot.last_end is not None:
                wait = slot.last_end + self.host_interval - self._now()
                if wait > 0:
                    await self._sleep(wait)
            try:
                yield
            finally:
                slot.last_end = self._now()

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET `url` through up to 5 checked redirects; FetchError unless 2xx or 304."""
        if self._session is None:
            raise RuntimeError("use the Fetcher as an async context manager")
        if max_bytes < 0:
            raise ValueError(f"max_bytes must not be negative, got {max_bytes}")
        try:
            current = URL(url)
        except (ValueError, TypeError) as exc:
            raise BadURL("that link is not a valid URL") from exc
        headers: CIMultiDict[str] = CIMultiDict({"Accept": accept})
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        visited: list[URL] = []
        origin = current
        budget = self.total_timeout
        while True:
            try:
                host = _check_url(current)
                literal = _literal_address(host)
                if literal is not None:
                    # aiohttp skips the resolver for literal addresses, so check them here.
                    self.guard.check(host, [literal])
                visited.append(current)
                async with self._host_turn(host):
                    started = asyncio.get_running_loop().time()
                    outcome = await self._hop(current, headers, max_bytes, budget, visited)
                    budget -= asyncio.get_running_loop().time() - started
            except (BadScheme, BadURL, RefusedAddress) as exc:
                if current is origin:
                    raise
                # The user gave the first URL; say where the refused one came from.
                raise type(exc)(f"{exc} (redirected from {_display(origin)})") from exc
            if isinstance(outcome, FetchResult):
                return outcome
            if outcome in visited:
                raise RedirectLoop(f"{_display(visited[0])} redirects in a loop")
            if len(visited) > MAX_REDIRECTS:
                raise TooManyRedirects(
                    f"{_display(visited[0])} redirected more than {MAX_REDIRECTS} times"
                )
            log.debug("redirect %s -> %s", _display(current), _display(outcome))
            current = outcome

    async def _hop(
        self,
        url: URL,
        headers: Mapping[str, str],
        max_bytes: int,
        budget: float,
        visited: list[URL],
    ) -> FetchResult | URL:
        """One request: the result, or the URL a redirect points to."""
        assert self._session is not None
        shown = _display(url)
        if budget <= 0:
            raise Timeout(f"{_display(visited[0])} took longer than {self.total_timeout:g} s")
        try:
            async with asyncio.timeout(budget):
                async with self._session.get(
                    url, headers=headers, allow_redirects=False
                ) as response:
                    return await self._answer(response, url, max_bytes, visited)
        except FetchError:
            raise
        except TimeoutError as exc:
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                raise Timeout(
                    f"connecting to {url.host} took longer than {self.connect_timeout:g} s"
                ) from exc
            raise Timeout(f"{shown} took longer than {self.total_timeout:g} s") from exc
        except aiohttp.InvalidURL as exc:
            raise BadURL(f"{shown} is not a valid URL") from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise ConnectionFailed(f"could not resolve {url.host}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectionFailed(f"could not connect to {url.host}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise ConnectionFailed(f"the connection to {url.host} broke mid-response") from exc
        except aiohttp.ClientResponseError as exc:
            raise ConnectionFailed(f"{url.host} sent a malformed response") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed(f"the connection to {url.host} failed") from exc

    async def _answer(
        self,
        response: aiohttp.ClientResponse,
        url: URL,
        max_bytes: int,
        visited: list[URL],
    ) -> FetchResult | URL:
        status = response.status
        shown = _display(url)
        if status in REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if not location:
                raise HTTPStatusError(
                    f"{shown} answered {status} without saying where to go", status=status
                )
            try:
                return url.join(URL(location))
            except ValueError as exc:
                raise BadURL(f"{shown} redirected to an invalid URL") from exc
        if status == 304:
            return self._result(response, url, b"", visited, not_modified=True)
        if not 200 <= status < 300:
            reason = f" {response.reason}" if response.reason else ""
            raise HTTPStatusError(
                f"{shown} answered {status}{reason}",
                status=status,
                retry_after=_retry_after(response.headers, dt.datetime.now(dt.UTC)),
            )
        declared = response.content_length
        if declared is not None and declared > max_bytes:
            response.close()
            raise TooLarge(f"{shown} is {_size(declared)}, over the {_size(max_bytes)} limit")
        body = bytearray()
        # Read to one byte past the cap whatever the headers said (chunked, a lying length).
        while len(body) <= max_bytes:
            chunk = await response.content.read(min(CHUNK, max_bytes + 1 - len(body)))
            if not chunk:
                break
            body += chunk
        if len(body) > max_bytes:
            # Dropping the connection stops the server sending the rest.
            response.close()
            raise TooLarge(f"{shown} is over the {_size(max_bytes)} limit")
        return self._result(response, url, bytes(body), visited, not_modified=False)

    @staticmethod
    def _result(
        response: aiohttp.ClientResponse,
        url: URL,
        body: bytes,
        visited: list[URL],
        *,
        not_modified: bool,
    ) -> FetchResult:
        content_type = None
        charset = None
        if "Content-Type" in response.headers:
            content_type = response.content_type
            charset = response.charset
        return FetchResult(
            status=response.status,
            url=str(url),
            headers=response.headers,
            body=body,
            content_type=content_type,
            charset=charset,
            not_modified=not_modified,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            redirects=tuple(str(u) for u in visited[:-1]),
        )


def _size(n: int) -> str:
    """A byte count as a person reads it."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"
