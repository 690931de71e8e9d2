"""Content-Encoding decoding in bounded steps, so a compression bomb never inflates past the cap.

httpx's own decoders inflate each network chunk in one call: a 64 KiB gzip chunk can become
64 MiB, and a few KiB of brotli several GiB, before any byte count sees it (reliability.md T9).
Here every call produces at most STEP bytes, and the caller stops asking once its cap is reached.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import brotli

from monitor.core.errors import FetchError

STEP = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate, br"


class BoundedDecoder:
    """Decodes one response body, yielding pieces of at most STEP bytes."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise FetchError(
                "http", f"stacked Content-Encoding {content_encoding!r} is not supported"
            )
        self.coding = codings[0] if codings else ""
        self._zlib: zlib._Decompress | None = None
        self._brotli: brotli.Decompressor | None = None
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "deflate":
            self._zlib = None  # zlib-wrapped or raw: decided by the first bytes
        elif self.coding == "br":
            self._brotli = brotli.Decompressor()
        elif self.coding:
            raise FetchError("http", f"unsupported Content-Encoding {self.coding!r}")

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of `data`, in pieces of at most STEP bytes."""
        try:
            if not self.coding:
                for start in range(0, len(data), STEP):
                    yield data[start : start + STEP]
            elif self._brotli is not None:
                yield from self._feed_brotli(data)
            else:
                yield from self._feed_zlib(data)
        except (zlib.error, brotli.error):
            raise FetchError("http", f"the {self.coding} body could not be decoded") from None

    def _feed_zlib(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            # RFC 9110 deflate is zlib-wrapped; some servers send raw deflate anyway.
            raw = not data or (data[0] & 0x0F) != 8
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        decoder = self._zlib
        pending = data
        while True:
            out = decoder.decompress(pending, STEP)
            if out:
                yield out
            pending = decoder.unconsumed_tail
            if not pending and len(out) < STEP:
                return
            if decoder.eof:
                return

    def _feed_brotli(self, data: bytes) -> Iterator[bytes]:
        decoder = self._brotli
        assert decoder is not None
        out = decoder.process(data, output_buffer_limit=STEP)
        if out:
            yield out
        while not decoder.can_accept_more_data():
            out = decoder.process(b"", output_buffer_limit=STEP)
            if not out:
                return
            yield out
