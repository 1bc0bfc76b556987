"""Which reader a document needs, told from its content; and the checks every document passes.

A document must be non-empty UTF-8 text (a byte-order mark is allowed); a
binary file or another encoding is refused naming the file and the line of
the first bad byte. Pure.
"""

from __future__ import annotations

from ledger.importers import cgip, kerslake, structured
from ledger.importers.model import DocumentError, DocumentFormat, Edition

MAX_BYTES = 20 * 1024 * 1024


def decode(data: bytes, name: str) -> str:
    """The text of a document; refuses empty, binary and non-UTF-8 files."""
    if not data.strip():
        raise DocumentError(name, 0, "the file is empty")
    if len(data) > MAX_BYTES:
        raise DocumentError(name, 0, f"the file is {len(data):,} bytes; a plan document is at "
                            f"most {MAX_BYTES:,}")
    if b"\x00" in data[:MAX_BYTES]:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DocumentError(name, line, "the file is binary (NUL bytes), not a plan document")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(name, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start}); save it as UTF-8") from None
    text = text.replace("\r\n", "\n")
    # A lone CR ends a line only in a file of CR line ends; elsewhere it is no line end (as
    # `grep -n` counts lines, which the sources cite) and reads as a space.
    return text.replace("\r", " " if "\n" in text else "\n")


def detect(text: str) -> DocumentFormat | None:
    """The format a text is written in, or None where it is none the ledger reads."""
    if cgip.looks_like(text):
        return DocumentFormat.CGIP_MONTHLY
    if kerslake.looks_like(text):
        return DocumentFormat.KERSLAKE_2015
    if structured.looks_like(text):
        return DocumentFormat.STRUCTURED
    return None


def _format(name: str, text: str, fmt: str) -> DocumentFormat:
    """The format named by `fmt`, else the one told from the text."""
    if fmt:
        try:
            return DocumentFormat(fmt)
        except ValueError:
            raise DocumentError(name, 0, f"unknown format {fmt!r}: use one of "
                                f"{', '.join(DocumentFormat)}") from None
    detected = detect(text)
    if detected is None:
        raise DocumentError(name, 1, "not a plan document the ledger can read (a monthly update "
                            "edition, the 2015 action plan, or a structured CSV plan)")
    return detected


def read_document(data: bytes, name: str, *, fmt: str = "", month: str = "") -> Edition:
    """The edition a document states; `fmt` overrides detection, `month` the edition month."""
    text = decode(data, name)
    match _format(name, text, fmt):
        case DocumentFormat.CGIP_MONTHLY:
            return cgip.parse(text, name, month)
        case DocumentFormat.KERSLAKE_2015:
            return kerslake.parse(text, name)
        case DocumentFormat.STRUCTURED:
            return structured.parse(text, name, month)
