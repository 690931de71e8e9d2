"""The asyncio network backend raises what httpcore expects of a backend, on real sockets."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpcore
import pytest

from monitor.sources.streams import AsyncioBackend

# Each connection's handler gets the event set when the test is over.
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, asyncio.Event], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 running `handler` per connection; yields its port. Handlers
    end before it does: asyncio 3.11 logs an error for a handler cancelled at the loop's end."""
    stop = asyncio.Event()
    handlers: list[asyncio.Task[None]] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await handler(reader, writer, stop)

    srv = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        stop.set()
        srv.close()
        await asyncio.gather(*handlers, return_exceptions=True)


async def silent(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, over: asyncio.Event
) -> None:
    """Neither reads nor answers until the test is over."""
    await over.wait()
    writer.close()


async def echo_then_close(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: asyncio.Event
) -> None:
    writer.write(await reader.readexactly(5))
    await writer.drain()
    writer.close()


async def test_bytes_go_both_ways_and_the_end_reads_empty() -> None:
    async with server(echo_then_close) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"hello", timeout=5)
        assert await stream.read(100, timeout=5) == b"hello"
        assert await stream.read(100, timeout=5) == b""
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        assert stream.get_extra_info("ssl_object") is None
        await stream.aclose()


async def test_a_silent_server_is_a_read_timeout() -> None:
    async with server(silent) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(100, timeout=0.2)
        await stream.aclose()


async def test_a_server_that_never_reads_is_a_write_timeout() -> None:
    async with server(silent) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore.WriteTimeout):
            await stream.write(b"x" * 64_000_000, timeout=0.2)
        await stream.aclose()


async def test_a_closed_port_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)


async def test_a_reset_is_a_read_error() -> None:
    async def reset(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: asyncio.Event
    ) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        await reader.readexactly(1)
        writer.transport.abort()

    async with server(reset) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"x", timeout=5)
        await asyncio.sleep(0.1)
        with pytest.raises(httpcore.ReadError):
            await stream.read(100, timeout=5)
        await stream.aclose()


async def test_tls_with_a_server_that_speaks_none_is_a_connect_error() -> None:
    async def plain(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: asyncio.Event
    ) -> None:
        await reader.read(1)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    async with server(plain) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore.ConnectError):
            await stream.start_tls(ssl.create_default_context(), "news.test", timeout=5)


async def test_a_stalled_tls_handshake_is_a_connect_timeout() -> None:
    async with server(silent) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore.ConnectTimeout):
            await stream.start_tls(ssl.create_default_context(), "news.test", timeout=0.2)


async def test_an_idle_connection_reads_readable_once_the_server_hangs_up() -> None:
    """The pool asks this before reusing a kept-alive connection."""
    async with server(echo_then_close) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        assert stream.get_extra_info("is_readable") is False
        await stream.write(b"hello", timeout=5)
        await asyncio.sleep(0.2)  # the echo and the server's close arrive
        assert stream.get_extra_info("is_readable") is True
        await stream.aclose()
