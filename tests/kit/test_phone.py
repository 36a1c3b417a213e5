"""Phone errors name what is wrong with the number, not a remedy that does not apply."""

from __future__ import annotations

import pytest

from herald.kit.phone import PhoneError, parse_phone


@pytest.mark.parametrize("region", [None, "FR", "US"])
def test_an_unknown_country_code_is_named(region: str | None) -> None:
    """The tenant has a default country: asking for one would send the user astray."""
    with pytest.raises(PhoneError) as caught:
        parse_phone("+999 123", region)
    assert "unknown country code" in caught.value.reason
    assert "default country" not in caught.value.reason


def test_without_any_country_a_default_is_asked_for() -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone("020 7946 0958", None)
    assert "give a default country" in caught.value.reason


@pytest.mark.parametrize("region", [None, "FR", "US", "GB", "DE"])
@pytest.mark.parametrize("raw", ["00 44 20 7946 0958", "0044 20 7946 0958", "00442079460958"])
def test_00_is_read_as_the_international_prefix(raw: str, region: str | None) -> None:
    """Not "too long" where the country dials out with another prefix (011 in the US)."""
    assert parse_phone(raw, region) == "+442079460958"


def test_000_is_left_to_the_country_rules() -> None:
    assert parse_phone("000 44 20 7946 0958", "KE") == "+442079460958"
    with pytest.raises(PhoneError):
        parse_phone("000 44 20 7946 0958", None)
