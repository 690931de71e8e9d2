"""Decoding a feed body to text when publishers declare the wrong charset, or none.

feedparser follows RFC 3023 to the letter: an HTTP charset wins over the document's own
declaration, text/xml without one means US-ASCII, and when the declared charset fails it falls
back to windows-1252, so an EUC-KR feed declared as UTF-8 comes out as mojibake, and UTF-16
with a BOM but no declaration is not read at all. Here the body is decoded first, trying in
order: a BOM; UTF-8 (bytes that are valid UTF-8 and not ASCII are UTF-8 in practice); the HTTP
charset of an XML media type; the XML declaration; the HTTP charset of any other type; a
statistical guess (charset-normalizer) on the first 64 KiB; windows-1252. The result goes to
the parsers as UTF-8 with its declaration saying so.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_GUESS_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """A body re-encoded as UTF-8, the charset it was read in, and what it claimed to be."""

    body: bytes
    encoding: str
    declared: str | None

    @property
    def note(self) -> str | None:
        """A warning when the declared charset was not the one that worked."""
        if self.declared is None or _same(self.declared, self.encoding):
            return None
        return f"declared as {self.declared} but read as {self.encoding}"


def to_utf8(body: bytes, content_type: str = "") -> Decoded:
    """`body` decoded as described in the module docstring, re-encoded as UTF-8."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(encoding, errors="replace")
            return Decoded(body=_declare_utf8(text), encoding=encoding, declared=None)
    declared_xml = _xml_declaration(body)
    http = _http_charset(content_type)
    xml_type = "xml" in content_type.lower()
    declared = (http if xml_type else None) or declared_xml or http
    candidates = ["utf-8", http if xml_type else None, declared_xml, http]
    for candidate in candidates:
        decoded = _strict(body, candidate)
        if decoded is not None:
            return Decoded(
                body=_declare_utf8(decoded), encoding=_name(candidate), declared=declared
            )
    guess = charset_normalizer.from_bytes(body[:_GUESS_BYTES]).best()
    guessed = (guess.encoding if guess is not None else None) or "windows-1252"
    text = body.decode(guessed, errors="replace")
    return Decoded(body=_declare_utf8(text), encoding=_name(guessed), declared=declared)


def _strict(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _xml_declaration(body: bytes) -> str | None:
    found = _DECLARATION.match(body[:1024])
    return found.group(1).decode("ascii") if found else None


def _http_charset(content_type: str) -> str | None:
    found = _CHARSET.search(content_type or "")
    return found.group(1) if found else None


def _declare_utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    found = _DECLARATION.match(data[:1024])
    if found is None:
        return data
    return data[: found.start(1)] + b"utf-8" + data[found.end(1) :]


def _name(encoding: str | None) -> str:
    try:
        return codecs.lookup(encoding or "utf-8").name
    except LookupError:
        return encoding or "utf-8"


def _same(a: str, b: str) -> bool:
    return _name(a) == _name(b)
