"""Small helpers for messages people read: an error that says "a email" reads as careless."""

from __future__ import annotations

_SPELLED_OUT = frozenset({"sms", "mms", "smtp", "rcs"})
"""Abbreviations read letter by letter whose first letter sounds like a vowel ("an SMS")."""
_VOWEL_LETTER_CONSONANT_SOUND = ("one", "once", "uni", "use", "eu")
"""Words that start with a vowel letter but sound like "w" or "y" ("a ONE_TAP button")."""


def with_article(word: str, *, capital: bool = False) -> str:
    """``word`` after "a" or "an", chosen by how it starts ("an email", "an APPROVED", "a
    phone number"); ``capital`` to start a sentence."""
    first = str(word).lower()
    vowel_sound = (
        first[:1] in ("a", "e", "i", "o") and not first.startswith(_VOWEL_LETTER_CONSONANT_SOUND)
    ) or first.split(" ")[0] in _SPELLED_OUT
    article = "an" if vowel_sound else "a"
    return f"{article.capitalize() if capital else article} {word}"
