"""A process-wide guard: tests may open connections to loopback only, never the internet."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections import deque
from collections.abc import Sequence
from typing import Any

from monitor.core.egress import IPAddress

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


# The (host, port) this process last tried to connect to over IP, oldest first; tests that must
# prove a target was never reached look here, since a refused connect still shows up. Bounded:
# the soak's daemons run under this guard for hours, and their memory is what it judges.
connections: deque[tuple[str, int]] = deque(maxlen=10_000)


def _literal(host: Any) -> bool:
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
    except ValueError:
        return False
    return True


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            connections.append((str(address[0]), int(address[1])))
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise ConnectionRefusedError(f"test guard: connection to {address!r} is not loopback")
    elif event == "socket.getaddrinfo":
        host = args[0]
        # An IP literal is parsed, not looked up: no traffic, and the connect is still checked.
        if host is not None and not _loopback(host) and not _literal(host):
            raise socket.gaierror(f"test guard: lookup of {host!r} is not loopback")


_installed = False


def install() -> None:
    """Refuse any connection or name lookup outside loopback in this process (idempotent)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


class StubResolver:
    """A resolver answering from a script: one list of addresses per call, the last repeated."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = [[ipaddress.ip_address(a) for a in answer] for answer in answers]
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]
