"""Reading a CSV file nobody cleaned: guess its encoding and delimiter, then stream its records
with the physical line each one starts on (quoted fields may span lines)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

SAMPLE_SIZE = 64 * 1024
DELIMITERS = ",;\t|"
csv.field_size_limit(1024 * 1024)


class UnreadableFile(ValueError):
    """The whole file cannot be imported; the message says why, for the person who sent it."""


TEXT_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "iso8859-1": "latin-1",
    "iso8859-2": "iso-8859-2",
    "iso8859-15": "iso-8859-15",
    "cp1250": "cp1250",
    "cp1251": "cp1251",
    "cp1252": "cp1252",
    "mac-roman": "mac_roman",
    "koi8-r": "koi8-r",
    "ascii": "ascii",
}
"""The encodings an import accepts, by Python's canonical codec name, with the name the API
shows. Only text encodings: Python's codec registry also holds byte transforms (``hex``,
``base64``, ``zlib``…) and ``rot13``, which do not turn bytes into text and have no place
here; UTF-32 files are too rare to be worth another path."""


def text_encoding(name: str) -> str:
    """The canonical name of an accepted encoding (any alias Python knows: ``latin1``,
    ``windows-1252``…); ``ValueError`` naming the accepted ones otherwise."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        canonical = None
    if canonical not in TEXT_ENCODINGS:
        raise ValueError(
            f"encoding {name!r} is not accepted; use one of {', '.join(TEXT_ENCODINGS.values())}, "
            "or leave it out to have it detected"
        )
    return canonical


@dataclass(frozen=True)
class Layout:
    encoding: str
    delimiter: str


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Latin-1 (every byte decodes)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise UnreadableFile(
            "The file looks binary (it contains NUL bytes), not a CSV text file. "
            "Export it as CSV (UTF-8) and upload that."
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252" if _looks_like_cp1252(sample) else "latin-1"
    return "utf-8"


def _looks_like_cp1252(sample: bytes) -> bool:
    """Bytes 0x80-0x9F are control characters in Latin-1 but quotes and dashes in Windows-1252."""
    return any(0x80 <= b <= 0x9F for b in sample) and _decodes(sample, "cp1252")


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(text: str) -> str:
    """The most plausible of , ; tab |, judged on the first lines."""
    lines = text.splitlines()[:50]
    if not lines or not lines[0].strip():
        raise UnreadableFile("The file is empty: it needs a header row and at least one contact.")
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def detect_layout(file: BinaryIO, encoding: str | None, delimiter: str | None) -> Layout:
    """Peek at the start of ``file`` (then rewind it) to choose how to read it."""
    sample = file.read(SAMPLE_SIZE)
    file.seek(0)
    if not sample.strip():
        raise UnreadableFile("The file is empty: it needs a header row and at least one contact.")
    chosen = encoding or detect_encoding(sample)
    if chosen == "utf-16" and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile(
            "encoding utf-16 needs a byte order mark at the start of the file, and this file has "
            "none: send encoding utf-16-le (Windows, most exports) or utf-16-be instead."
        )
    if delimiter is None:
        text = codecs.getincrementaldecoder(chosen)(errors="replace").decode(sample, final=False)
        delimiter = sniff_delimiter(text.lstrip("\ufeff"))
    return Layout(chosen, delimiter)


def open_text(file: BinaryIO, layout: Layout) -> io.TextIOWrapper:
    # newline="" hands line endings to the csv module, which needs them inside quoted fields.
    return io.TextIOWrapper(file, encoding=layout.encoding, errors="replace", newline="")


def records(
    text: io.TextIOWrapper, layout: Layout
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of ``(line the record starts on, fields)``, blank lines left
    out."""
    reader = csv.reader(text, delimiter=layout.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile(
            "The file is empty: it needs a header row and at least one contact."
        ) from None
    except csv.Error as exc:
        raise UnreadableFile(f"The header row cannot be read as CSV: {exc}.") from exc
    if header:
        header[0] = header[0].lstrip("\ufeff")
    return header, _rows(reader)


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """``reader.line_num`` counts physical lines read so far: a record starts one after the
    previous record's count."""
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFile(f"Line {start} cannot be read as CSV: {exc}.") from exc
        if any(fields):
            yield start, fields
        start = reader.line_num + 1


def estimate_rows(file: BinaryIO) -> int:
    """Newline bytes in the file, minus the header: the row count until the real one is known
    (quoted line breaks and blank lines make it an estimate)."""
    count = 0
    for block in iter(lambda: file.read(1024 * 1024), b""):
        count += block.count(b"\n")
    file.seek(0)
    return max(count - 1, 0)
