from __future__ import annotations

import pytest

from herald.kit.wording import with_article


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("email", "an email"),
        ("phone number", "a phone number"),
        ("IMAGE", "an IMAGE"),
        ("VIDEO", "a VIDEO"),
        ("sms", "an sms"),
        ("whatsapp", "a whatsapp"),
        ("ONE_TAP", "a ONE_TAP"),
        ("ZERO_TAP", "a ZERO_TAP"),
        ("IN_APPEAL", "an IN_APPEAL"),
    ],
)
def test_the_article_follows_the_sound(word: str, expected: str) -> None:
    assert with_article(word) == expected


def test_at_the_start_of_a_sentence() -> None:
    assert with_article("APPROVED", capital=True) == "An APPROVED"
