"""Phone numbers: parse anything a person types into E.164, or say exactly why not."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

NO_COUNTRY = "no country: write it as +<country code><number>, or give a default country"
UNKNOWN_CODE = (
    "unknown country code: the digits after + start with no country's calling code; check them"
)
_PARSE_REASONS = {
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_REASONS = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.INVALID_LENGTH: "wrong length",
}
_NOT_MOBILE = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
}


class PhoneError(ValueError):
    """A number that cannot be messaged; ``reason`` is meant for the person who typed it."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(
            f"{raw!r} is {reason}" if reason.startswith("not") else f"{raw!r}: {reason}"
        )
        self.raw = raw
        self.reason = reason


def parse_phone(raw: str, default_region: str | None, *, require_mobile: bool = False) -> str:
    """``raw`` in E.164 (``+14155550123``). National formats use ``default_region`` (ISO code)."""
    text = international_prefix_as_plus(raw.strip())
    if not text:
        raise PhoneError(raw, "empty")
    try:
        number = phonenumbers.parse(text, default_region.upper() if default_region else None)
    except NumberParseException as exc:
        raise PhoneError(raw, _parse_reason(exc, text)) from exc
    length = phonenumbers.is_possible_number_with_reason(number)
    if length not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise PhoneError(raw, _LENGTH_REASONS.get(length, "wrong length"))
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
        raise PhoneError(raw, f"not a valid number for region {region}")
    if number.extension:
        raise PhoneError(
            raw,
            f"has an extension ({number.extension}), which a text message cannot reach: "
            "give the number alone",
        )
    if require_mobile and phonenumbers.number_type(number) in _NOT_MOBILE:
        raise PhoneError(raw, "not a mobile number (SMS cannot reach a landline)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def international_prefix_as_plus(text: str) -> str:
    """``00 44 20…`` as ``+44 20…``. ``00`` is the international prefix of most of the world,
    and no country's national numbers start with it; phonenumbers reads it so only for a
    default country that dials ``00`` out (not the US, where ``0044…`` would be a national
    number "too long"), nor with no default country at all. ``000`` (dialled out of a few
    countries of East Africa) is left to the default country's rules."""
    if text.startswith("00") and not text.startswith("000"):
        return "+" + text[2:].lstrip()
    return text


def _parse_reason(exc: NumberParseException, text: str) -> str:
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return UNKNOWN_CODE if text.startswith("+") else NO_COUNTRY
    return _PARSE_REASONS.get(exc.error_type, "not a phone number")


def check_region(code: str) -> str:
    """``code`` in upper case if it is a country phone numbers are read in (ISO 3166 alpha-2
    with numbering rules); a ``ValueError`` saying so otherwise (``XX``, ``ZZ``)."""
    upper = code.upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"{code!r} is not a country code phone numbers can be read in: give an ISO 3166 "
            "two-letter code such as US, GB or DE"
        )
    return upper


def national_digits(e164: str) -> str:
    """The digits of an E.164 number without its country code: what every spelling of it in
    a file contains once separators are taken out (``+1 (415) 555-0123``, ``0044 20…``)."""
    return str(phonenumbers.parse(e164).national_number)


def region_of(e164: str) -> str | None:
    """The ISO region of an E.164 number (for time zones and quiet hours)."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.region_code_for_number(number)
