"""The opt-out footer policy: appended once, only to marketing, only when wording is missing."""

from __future__ import annotations

import pytest

from herald.contact.eligibility import Purpose
from herald.template.footer import apply_footer, finalize_sms, footer_for, has_opt_out_wording
from herald.template.render import RenderContext, render_template
from herald.template.service import message_context
from herald.tenant.schemas import TenantSettings

SETTINGS = TenantSettings(
    default_language="fr",
    opt_out_footer={
        "en": "Reply STOP to opt out",
        "fr": "STOP au 36111",
        "de": "Abmelden: Antwort NEIN",
    },
)


def test_appended_to_marketing_without_wording() -> None:
    assert finalize_sms("Sale today!", Purpose.marketing, SETTINGS, "en") == (
        "Sale today!\nReply STOP to opt out"
    )


def test_not_appended_to_transactional() -> None:
    assert finalize_sms("Your order shipped", Purpose.transactional, SETTINGS, "en") == (
        "Your order shipped"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Sale! Text STOP to quit",
        "Sale! stop2end? no: reply stop",
        "Sale! Unsubscribe: example.com/u",
        "Sale! Opt out any time",
        "Sale! opt-out: reply N",
        "Sale! OPTOUT",
        "Sale! Abmelden:   antwort  nein",
    ],
)
def test_not_appended_when_wording_is_present(text: str) -> None:
    assert has_opt_out_wording(text, SETTINGS)
    assert apply_footer(text, Purpose.marketing, SETTINGS, "en") == (text, False)


def test_words_containing_stop_are_not_wording() -> None:
    assert not has_opt_out_wording("Stopover deals in Doha", SETTINGS)


@pytest.mark.parametrize(
    ("language", "footer"),
    [
        ("de", "Abmelden: Antwort NEIN"),
        ("de-AT", "Abmelden: Antwort NEIN"),
        ("es", "STOP au 36111"),
        (None, "STOP au 36111"),
    ],
)
def test_footer_per_language_with_fallbacks(language: str | None, footer: str) -> None:
    assert footer_for(SETTINGS, language) == footer


def test_english_then_builtin_fallback() -> None:
    english_only = TenantSettings(default_language="it", opt_out_footer={"en": "Text STOP"})
    assert footer_for(english_only, "pt") == "Text STOP"
    assert footer_for(TenantSettings(opt_out_footer={}), "en") == "Reply STOP to opt out"


def test_setting_off_appends_nothing() -> None:
    off = SETTINGS.model_copy(update={"append_opt_out_footer": False})
    assert finalize_sms("Sale today!", Purpose.marketing, off, "en") == "Sale today!"


def test_opt_out_variable_places_the_footer_once() -> None:
    context = RenderContext(opt_out=footer_for(SETTINGS, "de"))
    rendered = render_template("Sale today! {{ opt_out }}", context)
    text, appended = apply_footer(rendered, Purpose.marketing, SETTINGS, "de")
    assert (text, appended) == ("Sale today! Abmelden: Antwort NEIN", False)


def test_finalizing_twice_appends_once() -> None:
    once = finalize_sms("Sale today!", Purpose.marketing, SETTINGS, "fr")
    assert finalize_sms(once, Purpose.marketing, SETTINGS, "fr") == once
    assert once.count("STOP au 36111") == 1


def test_message_context_completes_a_recipient() -> None:
    recipient = RenderContext(contact={"first_name": "Ann"})
    context = message_context(recipient, "Tenant Ltd", SETTINGS, "de", link="https://s/l/1")
    text = render_template(
        "{{ first_name }} @ {{ business_name }} {{ link }} {{ opt_out }}", context
    )
    assert text == "Ann @ Tenant Ltd https://s/l/1 Abmelden: Antwort NEIN"
    named = SETTINGS.model_copy(update={"business_name": "Ann's Shop"})
    assert message_context(recipient, "Tenant Ltd", named, "en").business_name == "Ann's Shop"
