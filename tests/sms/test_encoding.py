"""inspect(): the GSM 03.38 tables, segment boundaries, smart encoding, and invariants checked
against a character-by-character reference over random mixes of every class of character."""

# ruff: noqa: RUF001 - look-alike characters are what these tests are about

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.sms.encoding import (
    GSM_BASIC,
    GSM_EXTENSION,
    SMART_REPLACEMENTS,
    SmartReplacement,
    inspect,
)

# GSM 03.38 default alphabet written out by code point (0x00-0x7F, 0x1B being the escape),
# independently of the module's string, so a typo in either shows.
SPEC_BASIC = [
    0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
    0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF,
    0xC9, 0x20, 0x21, 0x22, 0x23, 0xA4, *range(0x25, 0x40), 0xA1, *range(0x41, 0x5B), 0xC4,
    0xD6, 0xD1, 0xDC, 0xA7, 0xBF, *range(0x61, 0x7B), 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
]  # fmt: skip
SPEC_EXTENSION = [0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC]

BMP_OTHER = "ñçáíóúêõαβγδлджשא中文한국\u0301"  # ç, á, lowercase Greek, Cyrillic, CJK, …
ASTRAL = "😀🎉👍🏽🚀𝄞"
SMART = "".join(SMART_REPLACEMENTS)


def reference_parts(text: str) -> tuple[str, list[str]]:
    """Encoding and segments the slow, obvious way: one character at a time, greedily."""
    gsm = all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)

    def width(c: str) -> int:
        if gsm:
            return 2 if c in GSM_EXTENSION else 1
        return 2 if ord(c) > 0xFFFF else 1

    single, multi = (160, 153) if gsm else (70, 67)
    if sum(map(width, text)) <= single:
        return ("GSM-7" if gsm else "UCS-2"), [text] if text else []
    parts, current, used = [], "", 0
    for c in text:
        if used + width(c) > multi:
            parts.append(current)
            current, used = "", 0
        current += c
        used += width(c)
    parts.append(current)
    return ("GSM-7" if gsm else "UCS-2"), parts


class TestTables:
    def test_basic_and_extension_match_the_standard(self) -> None:
        assert sorted(map(ord, GSM_BASIC)) == sorted(SPEC_BASIC)
        assert len(GSM_BASIC) == 127
        assert sorted(map(ord, GSM_EXTENSION)) == sorted(SPEC_EXTENSION)

    def test_every_basic_character_is_one_septet(self) -> None:
        found = inspect(GSM_BASIC)
        assert (found.encoding, found.units, found.segments) == ("GSM-7", 127, 1)

    @pytest.mark.parametrize("char", list(GSM_EXTENSION))
    def test_every_extension_character_is_two_septets(self, char: str) -> None:
        found = inspect(f"a{char}b")
        assert (found.encoding, found.characters, found.units) == ("GSM-7", 3, 4)
        assert found.ucs2_characters == ()

    def test_greek_capitals_are_gsm_lowercase_is_not(self) -> None:
        assert inspect("ΔΦΓΛΩΠΨΣΘΞ").encoding == "GSM-7"
        lower = inspect("ΔΦΓ δφγ")
        assert lower.encoding == "UCS-2"
        assert lower.ucs2_characters == ("δ", "φ", "γ")

    def test_ucs2_characters_are_distinct_in_order_of_appearance(self) -> None:
        found = inspect("Привет, мир! 😀 Привет")
        assert found.ucs2_characters == ("П", "р", "и", "в", "е", "т", "м", "😀")

    def test_lowercase_c_cedilla_and_backtick_are_not_gsm(self) -> None:
        assert inspect("ç").encoding == "UCS-2"
        assert inspect("`").encoding == "UCS-2"
        assert inspect("Ç").encoding == "GSM-7"


class TestSegments:
    def test_empty_text_is_no_segment(self) -> None:
        found = inspect("")
        assert (found.segments, found.units, found.characters, found.parts) == (0, 0, 0, ())

    @pytest.mark.parametrize(
        ("length", "segments"), [(1, 1), (153, 1), (154, 1), (160, 1), (161, 2), (306, 2), (307, 3)]
    )
    def test_gsm_lengths(self, length: int, segments: int) -> None:
        found = inspect("x" * length)
        assert (found.encoding, found.segments, found.units) == ("GSM-7", segments, length)

    @pytest.mark.parametrize(("length", "segments"), [(67, 1), (68, 1), (70, 1), (71, 2), (134, 2)])
    def test_ucs2_lengths(self, length: int, segments: int) -> None:
        found = inspect("ж" * length)
        assert (found.encoding, found.segments, found.units) == ("UCS-2", segments, length)
        if segments > 1:
            assert [len(p) for p in found.parts][:-1] == [67] * (segments - 1)

    def test_ucs2_135_units_take_three_segments(self) -> None:
        assert inspect("ж" * 135).segments == 3

    def test_emoji_straddling_the_boundary_moves_whole(self) -> None:
        found = inspect("ж" * 66 + "😀" + "ж" * 10)
        assert found.units == 66 + 2 + 10
        assert found.parts == ("ж" * 66, "😀" + "ж" * 10)

    def test_emoji_filling_a_single_segment_exactly(self) -> None:
        assert inspect("😀" * 35).segments == 1
        assert inspect("😀" * 35 + "a").parts == ("😀" * 33, "😀😀a")

    def test_extension_character_at_the_boundary_moves_whole(self) -> None:
        text = "x" * 152 + "€" + "y" * 10
        found = inspect(text)
        assert found.units == 152 + 2 + 10
        assert found.parts == ("x" * 152, "€" + "y" * 10)

    def test_extension_character_at_position_153(self) -> None:
        text = "x" * 153 + "€" + "y" * 10
        assert inspect(text).parts == ("x" * 153, "€" + "y" * 10)

    def test_eighty_extension_characters_fill_one_segment(self) -> None:
        assert (inspect("€" * 80).segments, inspect("€" * 81).segments) == (1, 2)
        assert [len(p) for p in inspect("€" * 81).parts] == [76, 5]


class TestSmart:
    def test_off_by_default(self) -> None:
        found = inspect("It’s “great” — really…")
        assert found.encoding == "UCS-2"
        assert (found.smart, found.smart_replacements, found.segments_saved) == (False, (), 0)

    def test_replacements_make_it_gsm_and_are_listed(self) -> None:
        found = inspect("It’s “great” — really… it’s\u00a0true\u200b", smart=True)
        assert found.text == "It's \"great\" - really... it's true"
        assert found.encoding == "GSM-7"
        assert found.characters == len(found.text)
        assert found.smart_replacements == (
            SmartReplacement("’", "'", 2),
            SmartReplacement("“", '"', 1),
            SmartReplacement("”", '"', 1),
            SmartReplacement("—", "-", 1),
            SmartReplacement("…", "...", 1),
            SmartReplacement("\u00a0", " ", 1),
            SmartReplacement("\u200b", "", 1),
        )

    def test_saving_is_counted_against_the_original(self) -> None:
        text = "We’re open " * 10  # 110 characters: two UCS-2 segments, one GSM segment
        found = inspect(text, smart=True)
        assert (found.original_segments, found.segments, found.segments_saved) == (2, 1, 1)

    def test_not_applied_when_the_message_stays_ucs2(self) -> None:
        text = "It’s here 😀"
        found = inspect(text, smart=True)
        assert (found.text, found.encoding, found.smart_replacements) == (text, "UCS-2", ())
        assert found.ucs2_characters == ("’", "😀")

    def test_not_applied_when_it_would_cost_more_segments(self) -> None:
        text = "…" * 70  # one UCS-2 segment; as "..." it would be 210 septets, two segments
        found = inspect(text, smart=True)
        assert (found.encoding, found.segments, found.text) == ("UCS-2", 1, text)

    def test_not_applied_when_nothing_would_be_left(self) -> None:
        found = inspect("\u200b", smart=True)
        assert (found.text, found.encoding, found.segments) == ("\u200b", "UCS-2", 1)

    def test_gsm_text_is_untouched(self) -> None:
        found = inspect("Plain {text}", smart=True)
        assert (found.smart, found.smart_replacements, found.original_segments) == (True, (), 1)

    def test_every_replacement_is_gsm_for_a_non_gsm_character(self) -> None:
        for char, replacement in SMART_REPLACEMENTS.items():
            assert char not in GSM_BASIC + GSM_EXTENSION, char
            assert inspect(replacement).encoding == "GSM-7", char


def mixes(*alphabets: str) -> st.SearchStrategy[str]:
    """Texts up to ~700 characters: short and long runs of plain GSM text (so segment
    boundaries are reached) interleaved with single characters drawn from ``alphabets``."""
    basic = st.sampled_from(GSM_BASIC)
    short_run = st.text(alphabet=basic, min_size=1, max_size=12)
    long_run = st.text(alphabet=basic, min_size=60, max_size=160)
    single = st.one_of(*(st.sampled_from(a) for a in alphabets))
    pieces = st.one_of(short_run, long_run, single, single, single)
    return st.lists(pieces, max_size=60).map("".join)


MIX = mixes(GSM_BASIC, GSM_EXTENSION, BMP_OTHER, ASTRAL, SMART)
GSM_MIX = mixes(GSM_EXTENSION)
SMART_MIX = mixes(GSM_EXTENSION, SMART)
UCS2_MIX = mixes(ASTRAL, BMP_OTHER)


def assert_invariants(text: str) -> None:
    found = inspect(text)
    encoding, parts = reference_parts(text)
    assert found.encoding == encoding
    assert list(found.parts) == parts
    assert found.segments == len(parts)
    assert "".join(found.parts) == found.text == text
    assert found.characters == len(text)
    gsm = encoding == "GSM-7"
    per_part = [
        len(p) + sum(c in GSM_EXTENSION for c in p) if gsm else len(p.encode("utf-16-le")) // 2
        for p in parts
    ]
    assert found.units == sum(per_part)
    limit = (160 if gsm else 70) if len(parts) == 1 else (153 if gsm else 67)
    assert all(0 < units <= limit for units in per_part)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for p in found.parts for c in p)
    assert set(found.ucs2_characters) == set(text) - set(GSM_BASIC + GSM_EXTENSION)


class TestProperties:
    @settings(max_examples=400)
    @given(MIX)
    def test_any_mix(self, text: str) -> None:
        assert_invariants(text)

    @settings(max_examples=300)
    @given(GSM_MIX)
    def test_gsm_only_text_stays_gsm(self, text: str) -> None:
        assert_invariants(text)
        assert inspect(text).encoding == "GSM-7"

    @settings(max_examples=300)
    @given(UCS2_MIX)
    def test_ucs2_mix(self, text: str) -> None:
        assert_invariants(text)

    @settings(max_examples=300)
    @given(SMART_MIX)
    def test_smart_never_costs_more(self, text: str) -> None:
        plain, smart = inspect(text), inspect(text, smart=True)
        assert smart.segments <= plain.segments
        assert smart.original_segments == plain.segments
        assert smart.segments_saved == plain.segments - smart.segments
        assert "".join(smart.parts) == smart.text
        if smart.text != text:
            assert smart.encoding == "GSM-7"
            assert smart.text == text.translate({ord(k): v for k, v in SMART_REPLACEMENTS.items()})
            assert smart.smart_replacements
