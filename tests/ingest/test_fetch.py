"""The safe fetcher against a local server: refusals before connecting, caps, redirects, manners."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import gzip
import ipaddress
import socket
import struct
from collections.abc import AsyncIterator
from importlib import metadata

import pytest
from aiohttp import web
from aiohttp.abc import ResolveResult

from bot.ingest.fetch import (
    MAX_REDIRECTS,
    BadScheme,
    BadURL,
    ConnectionFailed,
    Fetcher,
    FetchError,
    GuardedResolver,
    HTTPStatusError,
    RedirectLoop,
    RefusedAddress,
    Timeout,
    TooLarge,
    TooManyRedirects,
    default_user_agent,
    refusal_reason,
)
from tests.ingest.fetch_helpers import (
    LOCAL_NAMES,
    ConnectLog,
    FakeTime,
    LocalServer,
    MapResolver,
    RawServer,
    guard_connects,
    local_fetcher,
    local_resolver,
    local_server,
    raw_server,
)

MIB = 1024 * 1024
# Every await on the network is bounded: a hang fails the test instead of stalling the suite.
LIMIT = 8.0


async def get(f: Fetcher, url: str, *, max_bytes: int = MIB, **kw: str) -> object:
    return await asyncio.wait_for(f.get(url, max_bytes=max_bytes, accept="*/*", **kw), LIMIT)


@pytest.fixture
async def connects(monkeypatch: pytest.MonkeyPatch) -> ConnectLog:
    return guard_connects(monkeypatch)


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server() as running:
        yield running


@pytest.fixture
async def raw() -> AsyncIterator[RawServer]:
    async with raw_server() as running:
        yield running


@pytest.fixture
async def fetcher(connects: ConnectLog) -> AsyncIterator[Fetcher]:
    async with local_fetcher() as f:
        yield f


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text
    assert "\n" not in text
    assert "Traceback" not in text
    return text


# --- plain fetches ------------------------------------------------------------------------


async def test_fetch_returns_body_type_and_validators(
    fetcher: Fetcher, server: LocalServer
) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(
            body="Café news".encode(),
            content_type="text/html",
            charset="utf-8",
            headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Apr 2026 10:00:00 GMT"},
        )

    server.routes["/story"] = page
    result = await fetcher.get(
        server.url("feeds.test", "/story"), max_bytes=MIB, accept="text/html"
    )
    assert result.status == 200
    assert result.body.decode("utf-8") == "Café news"
    assert result.content_type == "text/html"
    assert result.charset == "utf-8"
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 01 Apr 2026 10:00:00 GMT"
    assert not result.not_modified
    assert result.url == server.url("feeds.test", "/story")
    seen = server.seen[0].headers
    assert seen["Accept"] == "text/html"
    assert seen["User-Agent"] == default_user_agent()
    assert seen["User-Agent"].startswith(f"briefbot/{metadata.version('briefbot')}")
    assert "If-None-Match" not in seen
    assert "If-Modified-Since" not in seen


async def test_a_body_exactly_at_the_cap_is_accepted(fetcher: Fetcher, server: LocalServer) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked, no length
        await response.prepare(request)
        await response.write(b"x" * 1000)
        await response.write_eof()
        return response

    server.routes["/exact"] = page
    result = await fetcher.get(server.url("feeds.test", "/exact"), max_bytes=1000, accept="*/*")
    assert len(result.body) == 1000


# --- refused before connecting ------------------------------------------------------------


async def test_loopback_literal_is_refused_and_the_server_sees_nothing(
    fetcher: Fetcher, server: LocalServer, connects: ConnectLog
) -> None:
    server.routes["/secret"] = lambda r: asyncio.sleep(0, web.Response(text="secret"))
    with pytest.raises(RefusedAddress) as caught:
        await get(fetcher, f"http://127.0.0.1:{server.port}/secret")
    assert "loopback" in one_line(caught.value)
    assert server.seen == []
    assert connects.addresses == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.5/admin", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
        ("http://[::1]:8080/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[fe80::1]/", "link-local"),
    ],
)
async def test_literal_non_public_addresses_are_refused_without_a_socket(
    fetcher: Fetcher, connects: ConnectLog, url: str, reason: str
) -> None:
    with pytest.raises(RefusedAddress) as caught:
        await get(fetcher, url)
    assert reason in one_line(caught.value)
    assert connects.addresses == []


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "127.0.0.2", "169.254.169.254", "::1", "::ffff:127.0.0.1", "fd00:ec2::254"],
)
async def test_names_resolving_to_non_public_addresses_are_refused_without_a_socket(
    connects: ConnectLog, address: str
) -> None:
    resolver = local_resolver(intranet_test=[address])
    async with local_fetcher(resolver=resolver) as f:
        with pytest.raises(RefusedAddress) as caught:
            await get(f, "http://intranet.test/")
    message = one_line(caught.value)
    assert message.startswith("intranet.test resolves to ")
    assert address not in message  # internal DNS answers are not echoed to users
    assert resolver.calls == ["intranet.test"]
    assert connects.addresses == []


async def test_one_private_address_among_public_ones_refuses_the_host(
    connects: ConnectLog,
) -> None:
    resolver = local_resolver(mixed_test=["93.184.216.34", "10.0.0.7"])
    async with local_fetcher(private_hosts=(), resolver=resolver) as f:
        with pytest.raises(RefusedAddress):
            await get(f, "http://mixed.test/")
    assert connects.addresses == []


@pytest.mark.parametrize(
    "url", ["http://2130706433/", "http://127.1/", "http://0x7f.0.0.1/", "http://017700000001/"]
)
async def test_disguised_numeric_hosts_are_refused(
    fetcher: Fetcher, connects: ConnectLog, url: str
) -> None:
    with pytest.raises(BadURL) as caught:
        await get(fetcher, url)
    assert "canonical" in one_line(caught.value)
    assert connects.addresses == []


async def test_the_allow_list_is_by_name_and_case_insensitive(
    connects: ConnectLog, server: LocalServer
) -> None:
    server.routes["/ok"] = lambda r: asyncio.sleep(0, web.Response(text="ok"))
    resolver = local_resolver(intranet_test=["127.0.0.1"])
    allowed = [" Intranet.Test. ", ""]  # a comma-separated setting, split
    async with local_fetcher(private_hosts=allowed, resolver=resolver) as f:
        result = await f.get(server.url("INTRANET.test", "/ok"), max_bytes=10, accept="*/*")
        assert result.body == b"ok"
        # The same address under a name not on the list is still refused.
        with pytest.raises(RefusedAddress):
            await get(f, server.url("feeds.test", "/ok"))
    assert server.paths == ["/ok"]


async def test_unknown_host_is_a_connection_failure(fetcher: Fetcher, connects: ConnectLog) -> None:
    with pytest.raises(ConnectionFailed) as caught:
        await get(fetcher, "http://nowhere.test/")
    assert one_line(caught.value) == "could not resolve nowhere.test"
    assert connects.addresses == []


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", BadScheme),
        ("ftp://feeds.test/file.txt", BadScheme),
        ("gopher://feeds.test/", BadScheme),
        ("not a link", BadURL),
        ("http:///no-host", BadURL),
    ],
)
async def test_only_http_and_https_are_fetched(
    fetcher: Fetcher, connects: ConnectLog, url: str, error: type[FetchError]
) -> None:
    with pytest.raises(error) as caught:
        await get(fetcher, url)
    one_line(caught.value)
    assert connects.addresses == []


async def test_guarded_resolver_filters_what_the_inner_resolver_says() -> None:
    guard = GuardedResolver(local_resolver(pub_test=["93.184.216.34"]), private_hosts=["cdn.test"])
    assert [r["host"] for r in await guard.resolve("pub.test", 443)] == ["93.184.216.34"]
    assert [r["host"] for r in await guard.resolve("cdn.test", 443)] == ["127.0.0.1"]
    with pytest.raises(RefusedAddress):
        await guard.resolve("feeds.test", 443)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("::ffff:93.184.216.34", True),
        ("127.0.0.1", False),
        ("172.16.0.1", False),
        ("100.100.100.100", False),
        ("198.18.0.1", False),
        ("255.255.255.255", False),
        ("fc00::1", False),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 wrapping 10.0.0.1
        ("ff02::1", False),
        ("::", False),
    ],
)
def test_refusal_reason(address: str, public: bool) -> None:
    assert (refusal_reason(ipaddress.ip_address(address)) is None) is public


# --- redirects ----------------------------------------------------------------------------


def redirect(location: str, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


async def test_relative_and_cross_host_redirects_are_followed(
    fetcher: Fetcher, server: LocalServer
) -> None:
    server.routes["/old/feed"] = lambda r: asyncio.sleep(0, redirect("../new/feed", 301))
    server.routes["/new/feed"] = lambda r: asyncio.sleep(
        0, redirect(server.url("cdn.test", "/final"), 308)
    )
    server.routes["/final"] = lambda r: asyncio.sleep(0, web.Response(text="here"))
    result = await fetcher.get(server.url("feeds.test", "/old/feed"), max_bytes=100, accept="*/*")
    assert result.body == b"here"
    assert result.url == server.url("cdn.test", "/final")
    assert result.redirects == (
        server.url("feeds.test", "/old/feed"),
        server.url("feeds.test", "/new/feed"),
    )
    assert server.paths == ["/old/feed", "/new/feed", "/final"]
    assert server.seen[2].headers["Host"].startswith("cdn.test")


async def test_redirect_to_a_loopback_address_is_refused_before_the_hop(
    fetcher: Fetcher, server: LocalServer, connects: ConnectLog
) -> None:
    server.routes["/go"] = lambda r: asyncio.sleep(
        0, redirect(f"http://127.0.0.1:{server.port}/secret")
    )
    server.routes["/secret"] = lambda r: asyncio.sleep(0, web.Response(text="secret"))
    with pytest.raises(RefusedAddress) as caught:
        await get(fetcher, server.url("feeds.test", "/go"))
    assert one_line(caught.value) == (
        "127.0.0.1 is a loopback address; only public addresses are fetched"
        f" (redirected from http://feeds.test:{server.port}/go)"
    )
    assert server.paths == ["/go"]
    assert connects.addresses == ["127.0.0.1"]  # the first hop only


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "http://intranet.test/", "http://[::1]/"],
)
async def test_redirect_to_a_private_target_opens_no_socket(
    connects: ConnectLog, server: LocalServer, location: str
) -> None:
    server.routes["/go"] = lambda r: asyncio.sleep(0, redirect(location))
    resolver = local_resolver(intranet_test=["10.20.30.40"])
    async with local_fetcher(resolver=resolver) as f:
        with pytest.raises(RefusedAddress):
            await get(f, server.url("feeds.test", "/go"))
    assert server.paths == ["/go"]
    assert connects.addresses == ["127.0.0.1"]


async def test_redirect_to_another_scheme_is_refused(fetcher: Fetcher, server: LocalServer) -> None:
    server.routes["/go"] = lambda r: asyncio.sleep(0, redirect("file:///etc/passwd"))
    with pytest.raises(BadScheme) as caught:
        await get(fetcher, server.url("feeds.test", "/go"))
    assert "not file (redirected from http://feeds.test" in one_line(caught.value)


async def test_redirect_loop_is_detected(fetcher: Fetcher, server: LocalServer) -> None:
    server.routes["/a"] = lambda r: asyncio.sleep(0, redirect("/b"))
    server.routes["/b"] = lambda r: asyncio.sleep(0, redirect("/a"))
    with pytest.raises(RedirectLoop) as caught:
        await get(fetcher, server.url("feeds.test", "/a"))
    assert "loop" in one_line(caught.value)
    assert server.paths == ["/a", "/b"]


async def test_five_redirects_are_followed_and_a_sixth_is_refused(
    fetcher: Fetcher, server: LocalServer
) -> None:
    for n in range(MAX_REDIRECTS):
        server.routes[f"/a{n}"] = lambda r, n=n: asyncio.sleep(0, redirect(f"/a{n + 1}"))
    server.routes[f"/a{MAX_REDIRECTS}"] = lambda r: asyncio.sleep(0, web.Response(text="end"))
    for n in range(10):
        server.routes[f"/b{n}"] = lambda r, n=n: asyncio.sleep(0, redirect(f"/b{n + 1}"))

    result = await fetcher.get(server.url("feeds.test", "/a0"), max_bytes=10, accept="*/*")
    assert result.body == b"end"
    assert len(result.redirects) == 5

    server.seen.clear()
    with pytest.raises(TooManyRedirects) as caught:
        await get(fetcher, server.url("feeds.test", "/b0"))
    assert not isinstance(caught.value, RedirectLoop)
    assert "more than 5" in one_line(caught.value)
    assert server.paths == [f"/b{n}" for n in range(6)]  # the sixth redirect is not followed


async def test_redirect_without_location_is_an_error(fetcher: Fetcher, server: LocalServer) -> None:
    server.routes["/x"] = lambda r: asyncio.sleep(0, web.Response(status=302))
    with pytest.raises(HTTPStatusError) as caught:
        await get(fetcher, server.url("feeds.test", "/x"))
    assert caught.value.status == 302


# --- size ---------------------------------------------------------------------------------


@pytest.mark.parametrize("declare_length", [False, True])
async def test_fifty_megabytes_is_cut_at_the_cap(
    fetcher: Fetcher, server: LocalServer, declare_length: bool
) -> None:
    total = 50 * MIB
    block = b"z" * (64 * 1024)
    report: dict[str, object] = {}
    done = asyncio.Event()

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        if declare_length:
            response.content_length = total
        await response.prepare(request)
        sent = 0
        try:
            while sent < total:
                await response.write(block)
                sent += len(block)
            report["cut"] = False
        except ConnectionError:
            report["cut"] = True
        finally:
            report["sent"] = sent
            done.set()
        return response

    server.routes["/huge"] = huge
    with pytest.raises(TooLarge) as caught:
        await get(fetcher, server.url("feeds.test", "/huge"))
    message = one_line(caught.value)
    assert "1.0 MiB limit" in message
    if declare_length:
        assert "50.0 MiB" in message
    await asyncio.wait_for(done.wait(), LIMIT)
    assert report["cut"] is True
    assert isinstance(report["sent"], int)
    assert report["sent"] < total


@pytest.mark.parametrize("close", [False, True])
async def test_a_small_content_length_never_lets_more_through(
    fetcher: Fetcher, raw: RawServer, close: bool
) -> None:
    async def liar(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = b"Connection: close\r\n" if close else b""
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n" + connection + b"\r\n")
        writer.write(b"a" * 100 + b"b" * (3 * MIB))
        await writer.drain()

    raw.handler = liar
    # aiohttp stops at the declared end; the excess then reads as a malformed next message,
    # which it reports when it lands in the same read. Either way no extra byte gets through.
    try:
        result = await fetcher.get(f"http://feeds.test:{raw.port}/", max_bytes=MIB, accept="*/*")
    except ConnectionFailed as exc:
        assert "malformed" in one_line(exc)
    else:
        assert result.body == b"a" * 100


async def test_no_length_read_until_close_is_cut_at_the_cap(
    fetcher: Fetcher, raw: RawServer
) -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for _ in range(64):
            writer.write(b"c" * (64 * 1024))
            await writer.drain()

    raw.handler = endless
    with pytest.raises(TooLarge):
        await get(fetcher, f"http://feeds.test:{raw.port}/", max_bytes=100_000)


async def test_a_long_content_length_with_a_short_body_is_a_broken_connection(
    fetcher: Fetcher, raw: RawServer
) -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nonly this")
        await writer.drain()

    raw.handler = short
    with pytest.raises(ConnectionFailed) as caught:
        await get(fetcher, f"http://feeds.test:{raw.port}/")
    assert "broke" in one_line(caught.value)


# --- time and broken connections ----------------------------------------------------------


@pytest.mark.parametrize("stall", ["headers", "body"])
async def test_a_slow_server_times_out(
    connects: ConnectLog, server: LocalServer, stall: str
) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        if stall == "headers":
            await asyncio.sleep(5)
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"start")
        await asyncio.sleep(5)
        return response

    server.routes["/slow"] = slow
    async with local_fetcher(total_timeout=0.3) as f:
        with pytest.raises(Timeout) as caught:
            await get(f, server.url("feeds.test", "/slow?key=s3cret"))
    message = one_line(caught.value)
    assert "0.3 s" in message
    assert "s3cret" not in message


async def test_connection_reset_is_a_connection_failure(fetcher: Fetcher, raw: RawServer) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    raw.handler = reset
    with pytest.raises(ConnectionFailed) as caught:
        await get(fetcher, f"http://feeds.test:{raw.port}/")
    assert "feeds.test" in one_line(caught.value)
    # aiohttp retries an idempotent GET once on a dropped connection, never more.
    assert raw.connections in (1, 2)


async def test_nothing_listening_is_a_connection_failure(fetcher: Fetcher, raw: RawServer) -> None:
    port = raw.port
    # A port that was just free: bind and close a socket to get one nobody listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailed) as caught:
        await get(fetcher, f"http://feeds.test:{port}/")
    assert one_line(caught.value) == "could not connect to feeds.test"


# --- statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "words"), [(404, "404 Not Found"), (500, "500 Internal")])
async def test_error_statuses_carry_a_readable_message(
    fetcher: Fetcher, server: LocalServer, status: int, words: str
) -> None:
    server.routes["/page"] = lambda r: asyncio.sleep(0, web.Response(status=status, text="oops"))
    with pytest.raises(HTTPStatusError) as caught:
        await get(fetcher, "http://user:hunter2@" + server.url("feeds.test", "/page?sig=abc")[7:])
    message = one_line(caught.value)
    assert caught.value.status == status
    assert words in message
    assert message.startswith(f"http://feeds.test:{server.port}/page answered")
    assert "hunter2" not in message
    assert "sig=abc" not in message
    assert caught.value.retry_after is None


async def test_conditional_get_gives_not_modified(fetcher: Fetcher, server: LocalServer) -> None:
    async def feed(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"abc"':
            return web.Response(status=304, headers={"ETag": '"abc"'})
        return web.Response(text="<rss/>", headers={"ETag": '"abc"'})

    server.routes["/feed"] = feed
    first = await fetcher.get(server.url("feeds.test", "/feed"), max_bytes=100, accept="*/*")
    again = await fetcher.get(
        server.url("feeds.test", "/feed"),
        max_bytes=100,
        accept="*/*",
        etag=first.etag,
        last_modified="Wed, 01 Apr 2026 10:00:00 GMT",
    )
    assert first.body == b"<rss/>"
    assert not first.not_modified
    assert again.not_modified
    assert again.status == 304
    assert again.body == b""
    assert server.seen[1].headers["If-None-Match"] == '"abc"'
    assert server.seen[1].headers["If-Modified-Since"] == "Wed, 01 Apr 2026 10:00:00 GMT"


async def test_retry_after_in_seconds_and_as_a_date(fetcher: Fetcher, server: LocalServer) -> None:
    date = dt.datetime(2026, 4, 1, 10, 0, tzinfo=dt.UTC)
    server.routes["/busy"] = lambda r: asyncio.sleep(
        0, web.Response(status=429, headers={"Retry-After": "120"})
    )
    server.routes["/down"] = lambda r: asyncio.sleep(
        0,
        web.Response(
            status=503,
            headers={
                "Date": email.utils.format_datetime(date, usegmt=True),
                "Retry-After": email.utils.format_datetime(
                    date + dt.timedelta(minutes=5), usegmt=True
                ),
            },
        ),
    )
    with pytest.raises(HTTPStatusError) as busy:
        await get(fetcher, server.url("feeds.test", "/busy"))
    with pytest.raises(HTTPStatusError) as down:
        await get(fetcher, server.url("feeds.test", "/down"))
    assert (busy.value.status, busy.value.retry_after) == (429, 120.0)
    assert (down.value.status, down.value.retry_after) == (503, 300.0)


# --- manners ------------------------------------------------------------------------------


async def test_requests_to_one_host_are_spaced(connects: ConnectLog, server: LocalServer) -> None:
    server.routes["/p"] = lambda r: asyncio.sleep(0, web.Response(text="p"))
    time = FakeTime()
    async with Fetcher(
        private_hosts=LOCAL_NAMES, resolver=local_resolver(), clock=time.clock, sleep=time.sleep
    ) as f:
        await get(f, server.url("feeds.test", "/p"))
        assert time.sleeps == []
        await get(f, server.url("feeds.test", "/p"))
        assert time.sleeps == [2.0]
        await get(f, server.url("cdn.test", "/p"))  # another host: no wait
        assert time.sleeps == [2.0]
        time.now += 0.5
        await get(f, server.url("feeds.test", "/p"))
        assert time.sleeps == [2.0, 1.5]
        time.now += 10
        await get(f, server.url("FEEDS.test", "/p"))  # same host, any case
        assert time.sleeps == [2.0, 1.5]
    assert server.paths == ["/p"] * 5


async def test_one_request_at_a_time_per_host(fetcher: Fetcher, server: LocalServer) -> None:
    active: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def slowish(request: web.Request) -> web.Response:
        host = request.host.split(":")[0]
        active[host] = active.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), active[host])
        peak["all"] = max(peak.get("all", 0), sum(active.values()))
        await asyncio.sleep(0.05)
        active[host] -= 1
        return web.Response(text="ok")

    server.routes["/s"] = slowish
    urls = [server.url(h, "/s") for h in ("feeds.test",) * 3 + ("cdn.test",) * 3]
    await asyncio.wait_for(
        asyncio.gather(*(fetcher.get(u, max_bytes=10, accept="*/*") for u in urls)), LIMIT
    )
    assert peak["feeds.test"] == 1
    assert peak["cdn.test"] == 1
    assert peak["all"] == 2  # hosts do not wait for each other


async def test_cookies_are_not_kept(fetcher: Fetcher, server: LocalServer) -> None:
    async def login(request: web.Request) -> web.Response:
        response = web.Response(status=302, headers={"Location": "/home"})
        response.set_cookie("session", "abc")
        return response

    async def home(request: web.Request) -> web.Response:
        response = web.Response(text="home")
        response.set_cookie("tracker", "xyz")
        return response

    server.routes["/login"] = login
    server.routes["/home"] = home
    await get(fetcher, server.url("feeds.test", "/login"))
    await get(fetcher, server.url("feeds.test", "/home"))
    assert server.paths == ["/login", "/home", "/home"]
    assert all("Cookie" not in s.headers for s in server.seen)


async def test_a_compressed_body_is_capped_by_its_decompressed_size(
    fetcher: Fetcher, server: LocalServer
) -> None:
    bomb = gzip.compress(b"\0" * (20 * MIB))

    async def zipped(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    server.routes["/bomb"] = zipped
    assert len(bomb) < MIB  # the declared length is under the cap; the content is not
    with pytest.raises(TooLarge):
        await get(fetcher, server.url("feeds.test", "/bomb"))
    small = gzip.compress(b"plain words")
    server.routes["/small"] = lambda r: asyncio.sleep(
        0, web.Response(body=small, headers={"Content-Encoding": "gzip"})
    )
    result = await fetcher.get(server.url("feeds.test", "/small"), max_bytes=100, accept="*/*")
    assert result.body == b"plain words"


# --- vet: the same judgement before anything is fetched (/feeds add) ----------------------


@pytest.mark.parametrize(
    ("url", "error", "says"),
    [
        ("http://127.0.0.1/feed", RefusedAddress, "127.0.0.1 is a loopback address"),
        ("http://[::1]/", RefusedAddress, "::1 is a loopback address"),
        ("http://10.0.0.1/", RefusedAddress, "10.0.0.1 is a private address"),
        ("http://[fe80::1]/", RefusedAddress, "link-local"),
        ("http://intranet.test/", RefusedAddress, "intranet.test resolves to a private address"),
        ("http://mixed.test/", RefusedAddress, "mixed.test resolves to a loopback address"),
        ("http://127.1/", BadURL, "127.1 is not a canonical address"),
        ("ftp://feeds.test/", BadScheme, "only http and https"),
        ("http://nowhere.test/", ConnectionFailed, "could not resolve nowhere.test"),
    ],
)
async def test_vet_judges_a_url_as_get_would_without_a_socket(
    connects: ConnectLog, url: str, error: type[FetchError], says: str
) -> None:
    resolver = local_resolver(intranet_test=["10.9.8.7"], mixed_test=["93.184.216.34", "::1"])
    async with local_fetcher(resolver=resolver) as f:
        with pytest.raises(error) as vetted:
            await asyncio.wait_for(f.vet(url), LIMIT)
        with pytest.raises(error) as fetched:
            await get(f, url)
    assert says in one_line(vetted.value)
    assert one_line(vetted.value) == one_line(fetched.value)
    assert connects.addresses == []


async def test_vet_passes_public_and_allow_listed_hosts(connects: ConnectLog) -> None:
    resolver = local_resolver(news_test=["93.184.216.34", "2606:2800:220:1::1"])
    async with local_fetcher(resolver=resolver) as f:
        await f.vet("https://news.test/feed.xml")
        await f.vet("http://feeds.test:8080/feed.xml")  # allow-listed: not even looked up
        await f.vet("http://93.184.216.34/rss")
    assert resolver.calls == ["news.test"]
    assert connects.addresses == []


class _SlowResolver(MapResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        await asyncio.sleep(30)
        raise AssertionError("not reached")


async def test_vet_gives_up_on_a_slow_lookup_in_time() -> None:
    async with local_fetcher(resolver=_SlowResolver({})) as f:
        started = asyncio.get_running_loop().time()
        with pytest.raises(Timeout) as caught:
            await f.vet("http://slow.test/", lookup_seconds=0.2)
    assert one_line(caught.value) == "looking up slow.test took longer than 0.2 s"
    assert asyncio.get_running_loop().time() - started < 5
