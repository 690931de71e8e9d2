"""Real local receivers for alerts: an SMTP server (aiosmtpd) and a Slack-style webhook."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (aiosmtpd cannot bind port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Mail:
    """One message the SMTP sink accepted."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    def text(self) -> str:
        """The plain-text part, or the whole body when there is one part."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.sink.lock:
            self.sink.attempts += 1
            reply = self.sink.replies.pop(0) if self.sink.replies else "250"
            if reply == "250":
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                self.sink.raw.append(envelope.content)
                self.sink.mails.append(
                    Mail(sender=envelope.mail_from, recipients=list(envelope.rcpt_tos), message=msg)
                )
        if reply == DISCONNECT:
            # The client has sent the whole message and waits for the verdict that never comes.
            server.transport.abort()
            return "421 gone"
        return reply if " " in reply else f"{reply} Message accepted for delivery"


DISCONNECT = "disconnect"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts.

    `replies` scripts the answers to the next DATA commands, in order: "451 Try later",
    "550 No such user", or DISCONNECT to drop the connection once the message was sent; after
    the script, every message is accepted. `attempts` counts every DATA, `raw` holds the bytes
    of each accepted message.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self.raw: list[bytes] = []
        self.replies: list[str] = []
        self.attempts = 0
        self.lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def url(self, to: str = "desk@example.com") -> str:
        """An apprise URL that sends to this server without TLS or login."""
        return f"mailto://127.0.0.1:{self.port}?to={to}&from=newsmonitor@example.com"


@dataclass(frozen=True)
class Post:
    """One request the webhook receiver took."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


HANG, RESET = "hang", "reset"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status with headers, or HANG (no answer until released) or RESET
    (the connection is reset once the request was read)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None


class WebhookSink:
    """An HTTP receiver on 127.0.0.1 that records POSTs and answers like Slack ("ok").

    `replies` scripts the answers to the next requests, in order; after it, every request gets
    `status` after `delay` seconds. `release()` frees requests held by HANG. `times` has the
    monotonic arrival time of each post, `max_in_flight` the most requests open at once.
    """

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.times: list[float] = []
        self.replies: list[Reply] = []
        self.status = 200
        self.delay = 0.0  # seconds to hold each request before answering
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.released = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                with sink.lock:
                    sink.posts.append(
                        Post(
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                        )
                    )
                    sink.times.append(time.monotonic())
                    sink.in_flight += 1
                    sink.max_in_flight = max(sink.max_in_flight, sink.in_flight)
                    reply = sink.replies.pop(0) if sink.replies else Reply(sink.status)
                    delay = sink.delay
                try:
                    self._answer(reply, delay)
                finally:
                    with sink.lock:
                        sink.in_flight -= 1

            def _answer(self, reply: Reply, delay: float) -> None:
                if reply.action == HANG:
                    sink.released.wait(60)
                    return
                if reply.action == RESET:
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                if delay:
                    time.sleep(delay)
                payload = b"ok" if reply.status == 200 else b"error"
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def finish(self) -> None:
                with contextlib.suppress(OSError, ValueError):
                    super().finish()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def release(self) -> None:
        """Let every request held by HANG end (without an answer)."""
        self.released.set()

    def json_url(self, path: str = "/alerts") -> str:
        """An apprise json:// URL that posts here."""
        return f"json://{self.base_url.removeprefix('http://')}{path}"

    def __enter__(self) -> WebhookSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def slack_base(self) -> str:
        """What NotifySlack.webhook_url must be for Slack webhooks to land here."""
        return f"{self.base_url}/services"
