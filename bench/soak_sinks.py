"""The soak's alert receivers: local HTTP endpoints that fail as real channels do.

Each receiver answers every POST through a `Fault` chosen when the request arrives, and records
only the requests it accepted (answered 200), with their arrival time: what a channel that
failed, hung or was reset never took is not a delivery, and the daemon must send it again.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK, ERROR, THROTTLE, RESET, HANG = "ok", "5xx", "429", "reset", "hang"


@dataclass(frozen=True, slots=True)
class Accepted:
    """One request the receiver took: its body and monotonic arrival time."""

    body: bytes
    at: float


class Receiver:
    """An HTTP receiver on 127.0.0.1 answering "ok" like Slack, unless told to fail.

    `failure_rate` of the requests fail at random (a 5xx, a 429 with Retry-After, a reset
    once the request is read, or a hang longer than `hang` seconds); while `down` is set every
    request gets a 503. `outcomes` counts what each request got.
    """

    def __init__(self, *, failure_rate: float = 0.0, hang: float = 0.0, seed: int = 0) -> None:
        self.failure_rate = failure_rate
        self.hang = hang
        self.down = False
        self.accepted: list[Accepted] = []
        self.outcomes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._rng = random.Random(seed)
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                fault = receiver._fault()
                if fault == OK:
                    with receiver.lock:
                        receiver.accepted.append(Accepted(body, time.monotonic()))
                    self._reply(200, {}, b"ok")
                elif fault == ERROR:
                    self._reply(503, {}, b"error")
                elif fault == THROTTLE:
                    self._reply(429, {"Retry-After": "2"}, b"slow down")
                elif fault == RESET:
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                    self.connection.close()
                else:
                    receiver._stopping.wait(receiver.hang)
                    self.close_connection = True

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def finish(self) -> None:
                with contextlib.suppress(OSError, ValueError):
                    super().finish()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _fault(self) -> str:
        with self.lock:
            if self.down:
                fault = ERROR
            elif self._rng.random() < self.failure_rate:
                fault = self._rng.choice((ERROR, THROTTLE, RESET, HANG))
            else:
                fault = OK
            self.outcomes[fault] += 1
        return fault

    def json_url(self) -> str:
        """An apprise json:// URL that posts here."""
        return f"json://{self.base_url.removeprefix('http://')}/alerts"

    def snapshot(self) -> list[Accepted]:
        """The accepted requests so far, oldest first."""
        with self.lock:
            return list(self.accepted)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
