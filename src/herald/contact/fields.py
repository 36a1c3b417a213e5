"""Each contact field's rules, stated once for the API and the CSV import.

The API's schemas and the import's row normalizer both call these functions and read these
limits, so a value gets the same verdict either way; ``Contact``'s text columns take their
lengths from here too. The checks are plain functions and precompiled patterns: the import
runs them on every row of files of a million rows, in worker processes that import this
module alone, which is why it imports neither the models nor SQLAlchemy.
"""

from __future__ import annotations

import re
from datetime import date

from herald.kit.zones import is_time_zone


class FieldError(ValueError):
    """A value a contact field does not accept; the message names the field and what to fix."""


MAX_LENGTHS = {"first_name": 100, "last_name": 100, "language": 16, "company": 200}
"""Free text fields and their limits, which are also the lengths of their columns."""
TAG_MAX_LENGTH = 64
"""Tags are labels, typed in filters and shown in lists; a longer one is a mistake."""
MAX_TAGS = 100
CUSTOM_VALUE_MAX_LENGTH = 1000
"""A custom field holds a fact about a person (a plan, a city, a loyalty tier), not a document."""
CUSTOM_FIELDS_MAX_BYTES = 16 * 1024
"""All custom fields of a contact as JSON: every list page and every rendered message carries
them, so a contact stays small."""
EMAIL_MAX_LENGTH = 254
"""RFC 5321's limit for an address in a mail path (the column, 320, is the looser RFC 3696
figure): an address longer than this cannot receive mail."""
EMAIL_LOCAL_MAX_LENGTH = 64
OLDEST_BIRTH_YEAR = 1900
CUSTOM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
"""A custom field's name, whether it comes from the API or from an import's mapping."""
CUSTOM_KEY_RULE = "start with a letter or _, use only letters, digits and _, at most 64 characters"

_ATOM = r"[^\s@\"(),:;<>\[\\\].]++"
_LABEL = r"[^\W_](?:[\w-]{0,62}+(?<![_-]))?"
_TOP_LEVEL = r"(?:[^\W\d_]{2,63}|xn--[a-z\d-]{1,59})"
EMAIL = re.compile(
    rf"(?P<local>{_ATOM}(?:\.{_ATOM})*+)@(?P<domain>(?:{_LABEL}\.)+{_TOP_LEVEL})", re.IGNORECASE
)
"""A dot-atom local part (no quoted forms, no comments) and a host name with a top-level
domain: what mail systems deliver to in practice; Unicode letters are allowed (RFC 6531).
Possessive quantifiers keep it as fast as a loose ``x@y.z`` pattern (the import runs it on
every row); ``check_email`` adds what a character class cannot say (no ``_`` in a host name)."""

GENDER_WORDS = {
    "female": ("f", "female", "woman", "w"),
    "male": ("m", "male", "man"),
    "other": ("o", "other", "x", "nonbinary", "non-binary", "diverse", "d"),
    "unknown": ("unknown",),
}
"""Each ``Gender`` value and the words that mean it."""
GENDERS = {word: gender for gender, words in GENDER_WORDS.items() for word in words}
"""Lower-case word → gender, so files written with ``F``, ``M`` or ``Woman`` read as well."""


def check_email(value: str) -> str:
    """The address with its domain in lower case (domains are case-insensitive; the local
    part is kept as given)."""
    found = EMAIL.fullmatch(value) if len(value) <= EMAIL_MAX_LENGTH else None
    at = found.start("domain") if found else 0
    if found is None or at > EMAIL_LOCAL_MAX_LENGTH + 1 or "_" in value[at:]:
        raise FieldError(
            f"email {value[:80]!r} is not an email address: write it as name@example.com "
            f"(at most {EMAIL_MAX_LENGTH} characters)"
        )
    domain = value[at:]
    return value if domain.islower() else value[:at] + domain.lower()


def check_text(name: str, value: str) -> str:
    limit = MAX_LENGTHS[name]
    if len(value) > limit:
        raise FieldError(f"{name} is longer than {limit} characters")
    return value


def check_tag(tag: str) -> str:
    if len(tag) > TAG_MAX_LENGTH:
        raise FieldError(f"tag {tag[:20]!r}… is longer than {TAG_MAX_LENGTH} characters")
    return tag


def check_tag_count(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise FieldError(f"a contact has at most {MAX_TAGS} tags; {len(tags)} were given")
    return tags


def check_custom_size(name: str, value: object) -> None:
    """A custom field's text values (a value, or each item of a list) are bounded."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str) and len(item) > CUSTOM_VALUE_MAX_LENGTH:
            raise FieldError(
                f"custom field {name!r} is longer than {CUSTOM_VALUE_MAX_LENGTH} characters"
            )


def check_custom_total(size: int) -> None:
    """``size``: the custom fields as JSON, in bytes."""
    if size > CUSTOM_FIELDS_MAX_BYTES:
        raise FieldError(
            f"custom fields take {size} bytes as JSON, more than the {CUSTOM_FIELDS_MAX_BYTES} "
            "a contact can hold; keep fewer or shorter values"
        )


def parse_gender(value: str) -> str:
    """The ``Gender`` value of a gender's name or a common word for it, in any case."""
    found = GENDERS.get(value.lower())
    if found is None:
        raise FieldError(
            f"gender {value!r} is not one of {', '.join(GENDER_WORDS)} "
            f"(or {', '.join(w for w in GENDERS if w not in GENDER_WORDS)})"
        )
    return found


def check_birth_date(value: date) -> date:
    if value.year < OLDEST_BIRTH_YEAR or value > date.today():
        raise FieldError(
            f"birth_date {value.isoformat()} is out of range: give a date from "
            f"{OLDEST_BIRTH_YEAR}-01-01 to today"
        )
    return value


def check_time_zone(value: str) -> str:
    if not is_time_zone(value):
        raise FieldError(
            f"timezone {value!r} is not an IANA time zone; use a name such as 'Europe/Paris'"
        )
    return value
