from __future__ import annotations

import random

import pytest

from herald.imports.normalize import (
    MappingError,
    RowSpec,
    email_key,
    fast_phone,
    map_header,
    normalize_chunk,
)
from herald.kit.phone import PhoneError, parse_phone


class TestAutoMapping:
    @pytest.mark.parametrize(
        ("header", "field"),
        [
            ("Phone", "phone"),
            ("MOBILE", "phone"),
            ("phone_number", "phone"),
            ("Phone Number", "phone"),
            ("msisdn", "phone"),
            ("Tel", "phone"),
            ("cell", "phone"),
            ("First Name", "first_name"),
            ("firstname", "first_name"),
            ("given name", "first_name"),
            ("Surname", "last_name"),
            ("E-mail", "email"),
            ("Email Address", "email"),
            ("DOB", "birth_date"),
            ("birth_date", "birth_date"),
            ("Birthday", "birth_date"),
            ("Sex", "gender"),
            ("company", "company"),
            ("Time Zone", "timezone"),
            ("TAGS", "tags"),
        ],
    )
    def test_common_names(self, header: str, field: str) -> None:
        other = "Notes" if field == "phone" else "Phone"
        columns, custom = map_header([other, header], None)
        assert columns[field] == 1
        assert all(index != 1 for _, index in custom)

    def test_unknown_columns_become_custom_fields(self) -> None:
        columns, custom = map_header(["Phone", "Favourite Color", "Store"], None)
        assert columns == {"phone": 0}
        assert custom == (("Favourite Color", 1), ("Store", 2))

    def test_no_phone_column(self) -> None:
        with pytest.raises(MappingError, match="No phone column"):
            map_header(["name", "email"], None)


class TestExplicitMapping:
    def test_mapping_wins_and_custom_and_ignore(self) -> None:
        columns, custom = map_header(
            ["Numéro", "Prénom", "Notes", "Mobile"],
            {
                "numéro": "phone",
                "Prénom": "first_name",
                "notes": "custom:remark",
                "mobile": "ignore",
            },
        )
        assert columns == {"phone": 0, "first_name": 1}
        assert custom == (("remark", 2),)

    def test_mapping_names_missing_column(self) -> None:
        with pytest.raises(MappingError, match="not in the file: Portable"):
            map_header(["phone"], {"Portable": "phone"})

    def test_mapping_to_unknown_field(self) -> None:
        with pytest.raises(MappingError, match="'shoe_size', which is not a contact field"):
            map_header(["phone", "size"], {"size": "shoe_size"})


def _spec(header: list[str], region: str | None = "US", **options: object) -> RowSpec:
    columns, custom = map_header(header, None)
    return RowSpec(columns=columns, custom=custom, default_region=region, **options)  # type: ignore[arg-type]


class TestRows:
    def test_good_and_bad_rows(self) -> None:
        spec = _spec(["phone", "email", "birthday", "gender", "city"])
        result = normalize_chunk(
            spec,
            [
                (2, ["(212) 234-5678", "a@example.com", "12/31/1990", "F", "Austin"]),
                (3, ["12", "", "", "", ""]),
                (4, ["+12122345679", "not-an-email", "", "", ""]),
                (5, ["+12122345670", "", "31/12/1990", "", ""]),
                (6, ["+12122345671", "", "", "robot", ""]),
            ],
        )
        assert result.lines == [2]
        assert result.phones == [12122345678]
        assert result.email_keys == [email_key("A@Example.com")]
        copy_line = result.copy_lines[0]
        assert (
            "1990-12-31" in copy_line
            and "female" in copy_line
            and '"city": "Austin"' not in copy_line
        )
        assert '{"city":"Austin"}' in copy_line
        reasons = dict(result.rejected)
        assert reasons[3] == "phone '12': too short"
        assert "not an email address" in reasons[4]
        assert "birth_date '31/12/1990' is not a real date" in reasons[5]
        assert "gender 'robot' is not one of" in reasons[6]

    def test_email_keys_ignore_case_and_a_non_ascii_email_is_flagged(self) -> None:
        spec = _spec(["phone", "email"])
        rows = [(2, ["+12122345678", "Ann@Example.com"]), (3, ["+12122345679", "ann@example.com"])]

        result = normalize_chunk(spec, rows)
        accented = normalize_chunk(spec, [(2, ["+12122345678", "zoë@example.com"])])

        assert result.email_keys[0] == result.email_keys[1] != 0
        assert not result.unusual_emails
        assert accented.unusual_emails

    def test_day_first_outside_the_us(self) -> None:
        spec = _spec(["phone", "dob"], region="GB")
        result = normalize_chunk(spec, [(2, ["07911 123456", "31/12/1990"])])
        assert result.phones == [447911123456]
        assert "1990-12-31" in result.copy_lines[0]

    def test_copy_escaping(self) -> None:
        spec = _spec(["phone", "first name", "notes"])
        result = normalize_chunk(spec, [(2, ["+12122345678", "A\tB", "line1\nline2\\"])])
        copy_line = result.copy_lines[0]
        assert "A\\tB" in copy_line
        assert "line1\\\\nline2\\\\\\\\" in copy_line  # JSON escapes, then COPY escapes
        assert "\n" not in copy_line

    def test_tags_union_with_batch_tags(self) -> None:
        spec = _spec(["phone", "tags"], tags=("spring", "vip"))
        result = normalize_chunk(
            spec, [(2, ["+12122345678", "vip; wholesale"]), (3, ["+12122345679", ""])]
        )
        assert '{"vip","wholesale","spring"}' in result.copy_lines[0]
        assert '{"spring","vip"}' in result.copy_lines[1]
        assert result.email_keys == [0, 0]


REGIONS = ["US", "GB", "FR", "DE", "IT", "IN", "CA", "CO", "BR", "AR", "AU", "JP", "CN", "RU"]
REGIONS += ["GG", "MX", None]
"""Regions with plain national prefixes, prefixes given by patterns, prefixes that rewrite the
number, shared country codes, and none."""


class TestFastPhone:
    def test_same_answer_as_the_full_parser(self) -> None:
        """The fast path must never accept what phonenumbers refuses, nor format differently."""
        rng = random.Random(7)
        forms = ("+{}", "{}", "+1{}", "+44 7{}", "0{}", "+33 6{}", "({}) {}")
        # Country codes shared by several regions, where the region that claims a number
        # decides: Canada and the Caribbean (+1), Jersey (+44 7797, 1534), Kazakhstan (+7 7),
        # Mayotte (+262 639), Norway and Svalbard (+47 79).
        forms += ("+1 416{}", "+1 268{}", "+44 7797{}", "+44 1534{}", "+7 7{}", "+262 639{}")
        forms += ("+47 79{}", "+61 8 9162{}", "+590 690{}")
        # Written without +: a country code in front, a national prefix, an exit code.
        forms += ("1{}", "49{}", "44 7{}", "33 6{}", "57 3{}", "55 11 9{}", "00{}", "011{}", "03{}")
        checked = 0
        for _ in range(20000):
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(6, 13)))
            raw = rng.choice(forms).format(digits, digits[:7])
            region = rng.choice(REGIONS)
            assert _outcome(fast_phone, raw, region) == _outcome(parse_phone, raw, region), raw
            checked += 1
        assert checked == 20000

    @pytest.mark.parametrize(
        ("raw", "region", "expected"),
        [
            ("+1 (212) 234-5678", None, "+12122345678"),
            ("1 212 234 5678", "US", "+12122345678"),
            ("212.234.5678", "US", "+12122345678"),
            ("07911 123456", "GB", "+447911123456"),
            ("+44 7911 123456", "US", "+447911123456"),
            ("06 12 34 56 78", "FR", "+33612345678"),
            ("+39 06 1234 5678", None, "+390612345678"),
        ],
    )
    def test_formats(self, raw: str, region: str | None, expected: str) -> None:
        assert fast_phone(raw, region) == expected


def _outcome(parse: object, raw: str, region: str | None) -> str:
    try:
        return parse(raw, region)  # type: ignore[operator, no-any-return]
    except PhoneError as exc:
        return f"error: {exc.reason}"
