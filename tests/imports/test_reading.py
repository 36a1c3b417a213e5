from __future__ import annotations

import codecs
import io

import pytest

from herald.imports.reading import (
    UnreadableFile,
    detect_encoding,
    detect_layout,
    open_text,
    records,
)


def _read(data: bytes) -> tuple[str, str, list[str], list[tuple[int, list[str]]]]:
    file = io.BytesIO(data)
    layout = detect_layout(file, None, None)
    header, rows = records(open_text(file, layout), layout)
    return layout.encoding, layout.delimiter, header, list(rows)


class TestDelimiters:
    @pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
    def test_sniffed(self, delimiter: str) -> None:
        text = delimiter.join(["phone", "first_name", "city"]) + "\n"
        text += delimiter.join(["+12122345678", "Ann", "Paris"]) + "\n"
        _, found, header, rows = _read(text.encode())
        assert found == delimiter
        assert header == ["phone", "first_name", "city"]
        assert rows == [(2, ["+12122345678", "Ann", "Paris"])]

    def test_header_only_line_falls_back_to_counting(self) -> None:
        _, found, header, _ = _read(b"phone;name\n")
        assert found == ";"
        assert header == ["phone", "name"]


class TestEncodings:
    TEXT = "phone,first_name\n+33612345678,Zoë Ångström\n"

    def test_utf8_with_bom(self) -> None:
        encoding, _, header, rows = _read(codecs.BOM_UTF8 + self.TEXT.encode())
        assert encoding == "utf-8-sig"
        assert header[0] == "phone"
        assert rows[0][1][1] == "Zoë Ångström"

    def test_utf8_without_bom(self) -> None:
        encoding, _, _, rows = _read(self.TEXT.encode())
        assert encoding == "utf-8"
        assert rows[0][1][1] == "Zoë Ångström"

    @pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
    def test_utf16_with_bom(self, codec: str) -> None:
        bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
        encoding, _, header, rows = _read(bom + self.TEXT.encode(codec))
        assert encoding == "utf-16"
        assert header == ["phone", "first_name"]
        assert rows[0][1][1] == "Zoë Ångström"

    def test_latin1(self) -> None:
        encoding, _, _, rows = _read("phone;nom\n+33612345678;Hélène Françoise\n".encode("latin-1"))
        assert encoding in ("latin-1", "cp1252")
        assert rows[0][1][1] == "Hélène Françoise"

    def test_windows_1252_quotes(self) -> None:
        assert (
            detect_encoding("phone,note\n1,\u201cquoted\u201d café\n".encode("cp1252")) == "cp1252"
        )


class TestRecords:
    def test_multiline_quoted_fields_keep_physical_line_numbers(self) -> None:
        data = (
            b"phone,note\r\n"
            b'+12122345678,"first\r\nsecond\r\nthird"\r\n'
            b"\r\n"
            b'+12122345679,"a ""quoted"" word"\r\n'
            b"+12122345670,plain\r\n"
        )
        _, _, _, rows = _read(data)
        assert rows == [
            (2, ["+12122345678", "first\r\nsecond\r\nthird"]),
            (6, ["+12122345679", 'a "quoted" word']),
            (7, ["+12122345670", "plain"]),
        ]

    def test_binary_file(self) -> None:
        with pytest.raises(UnreadableFile, match="binary"):
            _read(b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)))

    def test_empty_file(self) -> None:
        with pytest.raises(UnreadableFile, match="empty"):
            _read(b"  \n\n")
