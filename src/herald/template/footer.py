"""The opt-out footer: every marketing SMS must tell people how to stop receiving them.

A marketing text that already carries opt-out wording (STOP, UNSUBSCRIBE, "opt out", or the
words of one of the tenant's own footers, in any of its languages) is left alone; otherwise the
tenant's footer in the message's language is appended, when the tenant has that setting on.
``{{ opt_out }}`` in a template renders the footer in place, which the detection then finds, so
a footer is never added twice.
"""

from __future__ import annotations

import re
from functools import lru_cache

from herald.contact.eligibility import Purpose
from herald.tenant.schemas import TenantSettings

FALLBACK_LANGUAGE = "en"
FALLBACK_FOOTER = "Reply STOP to opt out"
_OPT_OUT_WORDING = re.compile(r"\b(stop|unsubscribe|opt[\s-]?out)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def footer_for(settings: TenantSettings, language: str | None) -> str:
    """The footer in ``language`` (or its base language: ``pt`` for ``pt-BR``), else in the
    tenant's default language, else in English, else Herald's own."""
    footers = settings.opt_out_footer
    for candidate in (language, (language or "").split("-")[0], settings.default_language):
        if candidate and footers.get(candidate):
            return footers[candidate]
    return footers.get(FALLBACK_LANGUAGE) or FALLBACK_FOOTER


def _normalized(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def has_opt_out_wording(text: str, settings: TenantSettings) -> bool:
    """True when ``text`` already tells the reader how to opt out, in English keywords or in
    the words of any of the tenant's footers (whitespace and case do not matter)."""
    if _OPT_OUT_WORDING.search(text):
        return True
    footers = _normalized_footers(tuple(settings.opt_out_footer.values()))
    if not footers:
        return False
    flat = _normalized(text)
    return any(footer in flat for footer in footers)


@lru_cache(maxsize=1024)
def _normalized_footers(footers: tuple[str, ...]) -> tuple[str, ...]:
    """Each footer as compared (the send path checks every message against them)."""
    return tuple(n for n in map(_normalized, footers) if n)


def apply_footer(
    text: str, purpose: Purpose, settings: TenantSettings, language: str | None
) -> tuple[str, bool]:
    """The text to send and whether the footer was appended."""
    if (
        purpose is not Purpose.marketing
        or not settings.append_opt_out_footer
        or has_opt_out_wording(text, settings)
    ):
        return text, False
    footer = footer_for(settings, language)
    separator = "\n" if text and not text.endswith("\n") else ""
    return f"{text}{separator}{footer}", True


def finalize_sms(
    text: str, purpose: Purpose, settings: TenantSettings, language: str | None
) -> str:
    """The rendered text as it must be sent: with the opt-out footer when policy needs it."""
    return apply_footer(text, purpose, settings, language)[0]
