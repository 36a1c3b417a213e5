"""Turning CSV records into contact rows: header mapping, phone numbers, dates, consent.

``normalize_chunk`` is a pure function of picklable arguments so that it can run in a process
pool: parsing phone numbers is the costly step of an import and it scales with cores.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import orjson
import phonenumbers
from phonenumbers import PhoneNumberDesc
from uuid_utils import uuid7

from herald.contact.fields import (
    CUSTOM_KEY,
    CUSTOM_KEY_RULE,
    MAX_LENGTHS,
    MAX_TAGS,
    TAG_MAX_LENGTH,
    FieldError,
    check_birth_date,
    check_custom_size,
    check_custom_total,
    check_email,
    check_tag,
    check_tag_count,
    check_text,
    check_time_zone,
    parse_gender,
)
from herald.kit.phone import PhoneError, parse_phone
from herald.kit.zones import time_zones

PROFILE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "timezone",
    "language",
    "company",
)
"""Contact columns an import writes as the file gives them (an empty cell keeps the stored
value); their names are the same in the file mapping, staging and ``contacts``."""
FIELDS = ("phone", *PROFILE_FIELDS, "tags", "sms_status", "whatsapp_status")
IGNORE = "ignore"
CUSTOM_PREFIX = "custom:"

_ALIASES = {
    "phone": "phone mobile phonenumber mobilenumber mobilephone msisdn tel telephone cell "
    "cellphone cellnumber number contactnumber",
    "email": "email e-mail emailaddress mail",
    "first_name": "firstname first givenname forename",
    "last_name": "lastname last surname familyname",
    "gender": "gender sex",
    "birth_date": "birthday birthdate dob dateofbirth",
    "timezone": "timezone tz",
    "language": "language lang locale",
    "company": "company companyname organization organisation",
    "tags": "tags tag labels",
    "sms_status": "smsconsent smsstatus smsoptin consent optin marketingconsent",
    "whatsapp_status": "whatsappconsent whatsappstatus whatsappoptin",
}
ALIASES = {alias: name for name, words in _ALIASES.items() for alias in words.split()}
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "BZ", "FM", "MH", "PW", "GU", "PR", "AS", "VI", "MP"})
_CONSENTS = {
    "opted_in": ("yes", "y", "true", "1", "opted_in", "optin", "opt-in", "subscribed", "granted"),
    "implied": ("implied",),
    "opted_out": ("no", "n", "false", "0", "opted_out", "optout", "opt-out", "unsubscribed"),
}
CONSENTS = {word: value for value, words in _CONSENTS.items() for word in words}
ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
SHORT_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
NON_DIGITS = re.compile(r"[\s().\-/]")


ROW_FIELDS = FIELDS[:10]
"""The fields read in one go for every row (consent columns are rare: read when present)."""


class MappingError(ValueError):
    """The header cannot be mapped to contact fields; the message says what to fix."""


def header_key(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


@dataclass(frozen=True)
class RowSpec:
    """How to read each record of one file: where each field is, and the batch's options."""

    columns: dict[str, int]
    custom: tuple[tuple[str, int], ...]
    default_region: str | None
    tags: tuple[str, ...] = ()
    sms_status: str | None = None
    whatsapp_status: str | None = None
    month_first: bool = field(init=False)
    indexes: tuple[int, ...] = field(init=False)
    """Column of each of ``ROW_FIELDS`` (-1: not in the file)."""
    tags_array: str = field(init=False)

    @property
    def sets_consent(self) -> bool:
        """Whether any row can carry a consent status (a column, or the batch's options)."""
        columns = ("sms_status", "whatsapp_status")
        return bool(self.sms_status or self.whatsapp_status) or any(
            c in self.columns for c in columns
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "month_first", (self.default_region or "") in MONTH_FIRST_REGIONS)
        indexes = tuple(self.columns.get(name, -1) for name in ROW_FIELDS)
        object.__setattr__(self, "indexes", indexes)
        object.__setattr__(self, "tags_array", _array(list(dict.fromkeys(self.tags))))


def map_header(
    header: list[str], mapping: dict[str, str] | None
) -> tuple[dict[str, int], tuple[tuple[str, int], ...]]:
    """Field → column index, and the custom fields (name, index) for every other column.

    An explicit ``mapping`` (header → field, ``ignore`` or ``custom:<name>``) wins over the
    automatic one, which matches common names case-, space- and underscore-insensitively."""
    explicit = {header_key(k): v for k, v in (mapping or {}).items()}
    known = {header_key(h) for h in header}
    missing = [k for k in (mapping or {}) if header_key(k) not in known]
    if missing:
        raise MappingError(
            f"The mapping names columns that are not in the file: {', '.join(missing)}. "
            f"The header is: {', '.join(header)}."
        )
    columns: dict[str, int] = {}
    custom: list[tuple[str, int]] = []
    for index, name in enumerate(header):
        key = header_key(name)
        target = explicit.get(key) or ALIASES.get(key)
        if target == IGNORE or (not key and target is None):
            continue
        if target is None:
            custom.append((name.strip(), index))
        elif target.startswith(CUSTOM_PREFIX):
            custom.append((_custom_name(name, target), index))
        elif target not in FIELDS:
            raise MappingError(
                f"The mapping sends column {name!r} to {target!r}, which is not a contact field. "
                f"Use one of {', '.join(FIELDS)}, '{IGNORE}' or '{CUSTOM_PREFIX}<name>'."
            )
        elif target not in columns:
            columns[target] = index
        elif key in explicit or header_key(header[columns[target]]) in explicit:
            raise MappingError(
                f"The mapping sends both {header[columns[target]]!r} and {name!r} to {target!r}; "
                f"a field takes one column: map the other to '{IGNORE}' or '{CUSTOM_PREFIX}<name>'."
            )
    if "phone" not in columns:
        raise MappingError(
            "No phone column: name one 'phone' (or mobile, msisdn, tel…) or map it with "
            f'mapping={{"<your column>": "phone"}}. The header is: {", ".join(header)}.'
        )
    return columns, tuple(custom)


def _custom_name(column: str, target: str) -> str:
    """The name after ``custom:``, which must be one the API accepts for a custom field."""
    name = target[len(CUSTOM_PREFIX) :]
    if not CUSTOM_KEY.match(name):
        raise MappingError(
            f"The mapping sends column {column!r} to {target!r}: a custom field's name must "
            f"{CUSTOM_KEY_RULE} (for example '{CUSTOM_PREFIX}loyalty_tier')."
        )
    return name


class RowError(ValueError):
    pass


@dataclass
class ChunkResult:
    """What a chunk's records became. For each row kept, in file order: its line, its number
    as an integer (the E.164 digits), the key of its email (0 without one) and its COPY line;
    ``rejected``: (line, reason) of the others. Plain lists of ints and strings: they cross
    the process boundary cheaply, where a tuple per row did not."""

    lines: list[int] = field(default_factory=list)
    phones: list[int] = field(default_factory=list)
    email_keys: list[int] = field(default_factory=list)
    copy_lines: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    unusual_emails: bool = False
    """An email is not ASCII, where Python's and PostgreSQL's ``lower()`` may differ."""


def normalize_chunk(spec: RowSpec, records: list[tuple[int, list[str]]]) -> ChunkResult:
    result = ChunkResult()
    escape = _needs_escape(records)
    for line, fields in records:
        try:
            phone, email, copy_line = normalize_row(spec, fields, escape=escape)
        except (RowError, FieldError, PhoneError) as exc:
            result.rejected.append((line, _reason(exc)))
            continue
        result.lines.append(line)
        result.phones.append(int(phone[1:]))
        result.copy_lines.append(f"{line}\t{copy_line}")
        if email is None:
            result.email_keys.append(0)
        else:
            result.email_keys.append(email_key(email))
            result.unusual_emails = result.unusual_emails or not email.isascii()
    return result


def _needs_escape(records: list[tuple[int, list[str]]]) -> bool:
    """Whether any cell of the chunk holds a character COPY text must escape (tab, line break,
    backslash). Most files have none: one scan of the chunk then spares a check per value."""
    cells = itertools.chain.from_iterable(fields for _, fields in records)
    return _NEEDS_ESCAPE.search("\x1f".join(cells)) is not None


def email_key(email: str) -> int:
    """64 bits of a hash of the lower-cased email, the same in every process (``hash()`` is
    salted per process). Two emails sharing a key only cost the exact check in SQL."""
    digest = hashlib.blake2b(email.lower().encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1


def warm_up() -> None:
    """Load what every chunk needs (time zones, the rules of common regions) once, in a new
    worker process, before the first chunk arrives."""
    time_zones()
    for region in ("US", "GB", "DE", "FR"):
        _rules_for_region(region)


def _reason(exc: Exception) -> str:
    if isinstance(exc, PhoneError):
        return f"phone {exc.raw!r}: {exc.reason}"
    return str(exc)


def normalize_row(
    spec: RowSpec, fields: list[str], *, escape: bool = True
) -> tuple[str, str | None, str]:
    """The E.164 number, the email and the row as a COPY text line (without its line number).

    ``escape=False`` when no cell holds a character COPY must escape: the values taken from
    cells are then joined as they are. Tags and custom fields are always escaped: their array
    and JSON notations bring backslashes of their own."""
    size = len(fields)
    (phone_raw, email, first, last, gender, birth, zone, language, company, tags) = (
        fields[i].strip() if 0 <= i < size else "" for i in spec.indexes
    )
    phone = fast_phone(phone_raw, spec.default_region)
    email = check_email(email) if email else ""
    custom = {name: fields[i].strip() for name, i in spec.custom if i < size and fields[i].strip()}
    from_cells = (
        email or None,
        _limited("first_name", first),
        _limited("last_name", last),
        _gender(gender),
        _birth_date(birth, spec.month_first) if birth else None,
        check_time_zone(zone) if zone else None,
        _limited("language", language),
        _limited("company", company),
        _consent(spec, "sms_status", fields, size) or spec.sms_status,
        _consent(spec, "whatsapp_status", fields, size) or spec.whatsapp_status,
    )
    if escape:
        text = "\t".join(map(_copy_text, from_cells))
    else:
        text = "\t".join([NULL if v is None else v for v in from_cells])
    tags_array = _array(_tags(tags, spec.tags)) if tags else spec.tags_array
    custom_json = _custom_json(custom) if custom else "{}"
    copy_line = f"{uuid7()}\t{phone}\t{text}\t{_copy_text(tags_array)}\t{_copy_text(custom_json)}"
    return phone, email or None, copy_line


def _custom_json(custom: dict[str, str]) -> str:
    """The row's custom fields as JSON, within the limits the API applies."""
    for name, value in custom.items():
        check_custom_size(name, value)
    encoded = orjson.dumps(custom)
    check_custom_total(len(encoded))
    return encoded.decode()


def _consent(spec: RowSpec, name: str, fields: list[str], size: int) -> str | None:
    index = spec.columns.get(name, -1)
    return _choice(name, fields[index].strip(), CONSENTS) if 0 <= index < size else None


def fast_phone(raw: str, region: str | None) -> str:
    """E.164 for ``raw``, validated against phonenumbers' metadata either way.

    Most files hold clean numbers, national or international. For those the country code and
    national number are split off the digits directly, the way phonenumbers splits them, and
    matched against the general, fixed-line and mobile patterns of the region that claims
    the number (what ``is_valid_number`` matches, minus its scan over every other number
    type). Everything else, and every number that does not match that way, goes through
    ``parse_phone``, which gives the final answer and says what is wrong. Tests compare the
    two on hundreds of thousands of numbers of every region."""
    digits = NON_DIGITS.sub("", raw)
    if digits[:1] == "+" and digits[1:].isdigit():
        found = _international(digits[1:])
    elif region and digits.isdigit():
        found = _national(digits, region)
    else:
        found = None
    return found or parse_phone(raw, region)


def _international(digits: str) -> str | None:
    for size in (1, 2, 3):
        regions = _rules_for_code(digits[:size])
        if regions:
            return _claimed(regions, digits[size:])
    return None


def _claimed(regions: tuple[_Rules, ...], national: str) -> str | None:
    """The number judged by the region that claims it, the way phonenumbers picks among the
    regions sharing a country code (the US, Canada and the Caribbean share +1; the UK,
    Jersey, Guernsey and the Isle of Man +44): a region with leading digits claims the
    numbers that start with them; another claims a number its patterns match."""
    for rules in regions:
        if rules.leading is not None:
            if rules.leading.match(national):
                return rules.e164(national)
        elif (found := rules.e164(national)) is not None:
            return found
    return None


def _national(digits: str, region: str) -> str | None:
    """A number written without ``+``, read the way phonenumbers reads it for ``region``:
    with the country code in front when that reads better (``1 212…`` in the US, ``49 151…``
    in Germany), else after taking off the national prefix (``0`` in most of Europe)."""
    rules = _rules_for_region(region)
    if rules is None:
        return None
    if digits.startswith(rules.code):
        after_code = rules.without_national_prefix(digits[len(rules.code) :])
        if after_code is None:
            return None
        if rules.reads_better_without_code(digits, after_code):
            return _claimed(_rules_for_code(rules.code), after_code)
    national = rules.without_national_prefix(digits)
    return None if national is None else _claimed(_rules_for_code(rules.code), national)


@dataclass(frozen=True)
class _Pattern:
    lengths: frozenset[int]
    regex: re.Pattern[str] | None

    @classmethod
    def of(cls, desc: PhoneNumberDesc | None) -> _Pattern:
        pattern = desc.national_number_pattern if desc is not None else None
        lengths = frozenset(desc.possible_length) if desc is not None else frozenset()
        return cls(lengths, re.compile(pattern) if pattern else None)

    def matches(self, national: str) -> bool:
        if self.regex is None or (self.lengths and len(national) not in self.lengths):
            return False
        return self.regex.fullmatch(national) is not None

    def matches_digits(self, national: str) -> bool:
        """The pattern alone, whatever the length (phonenumbers' viability test)."""
        return self.regex is not None and self.regex.fullmatch(national) is not None


@dataclass(frozen=True)
class _Rules:
    """One region's numbering rules, compiled once per process."""

    code: str
    prefix_for_parsing: re.Pattern[str] | None
    """What a national number may start with that is not part of it (``0`` in France)."""
    transforms: bool
    """Taking the prefix off may rewrite the number (Argentina, Brazil…): then the full parser
    decides."""
    leading: re.Pattern[str] | None
    """The region's leading digits, where it shares its country code with others."""
    general: _Pattern
    types: tuple[_Pattern, ...]

    def without_national_prefix(self, digits: str) -> str | None:
        """``digits`` without the national prefix, as phonenumbers strips it: only if what is
        left is still a viable number when the whole was. ``None``: left to the full parser."""
        found = self.prefix_for_parsing.match(digits) if self.prefix_for_parsing else None
        if found is None:
            return digits
        if self.transforms and found.groups() and found.groups()[-1] is not None:
            return None
        rest = digits[found.end() :]
        if self.general.matches_digits(digits) and not self.general.matches_digits(rest):
            return digits
        return rest

    def reads_better_without_code(self, digits: str, after_code: str) -> bool:
        """Whether ``digits``, which start with the region's own country code, are read as
        that code and a national number (phonenumbers' rule: the whole is not a viable
        number and the rest is, or the whole is too long)."""
        viable_now = self.general.matches_digits(digits)
        too_long = bool(self.general.lengths) and len(digits) > max(self.general.lengths)
        return (not viable_now and self.general.matches_digits(after_code)) or too_long

    def e164(self, national: str) -> str | None:
        # A national number with a leading zero (Italy…) keeps it: left to the full parser.
        if not national or national[0] == "0" or not self.general.matches(national):
            return None
        if any(t.matches(national) for t in self.types):
            return f"+{self.code}{national}"
        return None


@lru_cache(maxsize=512)
def _rules_for_region(region: str) -> _Rules | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None or not metadata.country_code:
        return None
    return _Rules(
        code=str(metadata.country_code),
        prefix_for_parsing=(
            re.compile(metadata.national_prefix_for_parsing)
            if metadata.national_prefix_for_parsing
            else None
        ),
        transforms=bool(metadata.national_prefix_transform_rule),
        leading=re.compile(metadata.leading_digits) if metadata.leading_digits else None,
        general=_Pattern.of(metadata.general_desc),
        types=(_Pattern.of(metadata.mobile), _Pattern.of(metadata.fixed_line)),
    )


@lru_cache(maxsize=1024)
def _rules_for_code(code: str) -> tuple[_Rules, ...]:
    """The rules of every region of a country code, main region first (phonenumbers' order)."""
    if not code.isdigit() or code[0] == "0":
        return ()
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(code), ())
    found = (
        _rules_for_region(region)
        for region in regions
        if region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
    )
    return tuple(rules for rules in found if rules is not None)


def _limited(name: str, value: str) -> str | None:
    """``check_text`` is called only to refuse: a call per cell costs a million-row file."""
    if len(value) > MAX_LENGTHS[name]:
        check_text(name, value)
    return value or None


def _gender(value: str) -> str | None:
    """``unknown``, like an empty cell, leaves the stored gender as it is."""
    gender = parse_gender(value) if value else None
    return None if gender == "unknown" else gender


def _choice(name: str, value: str, choices: dict[str, str]) -> str | None:
    if not value or value.lower() == "unknown":
        return None
    found = choices.get(value.lower())
    if found is None:
        raise RowError(f"{name} {value!r} is not one of {', '.join(sorted(set(choices.values())))}")
    return found


def _tags(value: str, extra: tuple[str, ...]) -> list[str]:
    tags = [t.strip() for t in re.split(r"[,;|]", value)] if value else []
    for tag in tags:
        if len(tag) > TAG_MAX_LENGTH:
            check_tag(tag)
    unique = list(dict.fromkeys(t for t in (*tags, *extra) if t))
    return check_tag_count(unique) if len(unique) > MAX_TAGS else unique


def _birth_date(value: str, month_first: bool) -> str | None:
    if not value:
        return None
    if match := ISO_DATE.match(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := SHORT_DATE.match(value):
        first, second, year = (int(g) for g in match.groups())
        month, day = (first, second) if month_first else (second, first)
    else:
        raise RowError(
            f"birth_date {value!r} is not a date: use YYYY-MM-DD or "
            + ("MM/DD/YYYY" if month_first else "DD/MM/YYYY")
        )
    try:
        parsed = date(year, month, day)
    except ValueError as exc:
        raise RowError(f"birth_date {value!r} is not a real date ({exc})") from exc
    return check_birth_date(parsed).isoformat()


def _array(values: list[str]) -> str | None:
    """A PostgreSQL array literal (before COPY escaping)."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


NULL = "\\N"
"""NULL in COPY text."""
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str | None) -> str:
    if value is None:
        return NULL
    return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


STAGING_COLUMNS = (
    "line",
    "id",
    "phone_e164",
    *PROFILE_FIELDS,
    "sms_status",
    "whatsapp_status",
    "tags",
    "custom_fields",
)
"""The staging table's columns, in the order of ``normalize_row``'s COPY line."""
