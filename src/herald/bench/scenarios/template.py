"""Scenario ``template-render``: render one marketing SMS template for ``size`` recipients.

What the send pipeline does per message: complete the recipient's values with the tenant's and
the message's (``message_context``), render the body in the sandbox (compiled once, every
render bounded in steps, size and time) and apply the opt-out footer policy (``finalize_sms``).
Recipients are generated deterministically (names, some blank, custom fields, languages).

Baseline: the same text built with ``str.format`` and a plain footer check, no sandbox: what
the renderer costs over the least any renderer could do.
"""

from __future__ import annotations

import time

from herald.bench.types import BenchContext, Measurement
from herald.contact.eligibility import Purpose
from herald.template.footer import finalize_sms
from herald.template.render import RenderContext, render_template
from herald.template.service import message_context
from herald.tenant.schemas import TenantSettings

BODY = (
    'Hi {{ first_name | default("there") }}, {{ business_name }} has your size '
    "{{ custom.size | default('in stock') }}: {{ discount_code }} takes 20% off. {{ link }}"
)
PLAIN = "Hi {name}, {business} has your size {size}: {code} takes 20% off. {link}"
NAMES = ("Ann", "Bo", "", "Chidi", "Dana", "Émile", "", "Farah")
SIZES = ("S", "M", "L", "", "XL")
SETTINGS = TenantSettings(
    business_name="Bench Shop", opt_out_footer={"en": "Reply STOP to opt out", "fr": "STOP 36111"}
)


def _recipients(size: int) -> list[tuple[RenderContext, str]]:
    recipients = []
    for i in range(size):
        language = "fr" if i % 7 == 0 else "en"
        contact = RenderContext(
            contact={"first_name": NAMES[i % len(NAMES)], "language": language},
            custom={"size": SIZES[i % len(SIZES)]},
        )
        recipients.append((contact, language))
    return recipients


def _link(i: int) -> str:
    return f"https://s.example/l/{i:08x}"


async def run(ctx: BenchContext, size: int) -> Measurement:
    recipients = _recipients(size)
    started = time.perf_counter()
    for i, (recipient, language) in enumerate(recipients):
        context = message_context(
            recipient, "Bench", SETTINGS, language, link=_link(i), discount_code="BENCH20"
        )
        finalize_sms(render_template(BODY, context), Purpose.marketing, SETTINGS, language)
    seconds = time.perf_counter() - started

    started = time.perf_counter()
    for i, (recipient, language) in enumerate(recipients):
        text = PLAIN.format(
            name=recipient.contact["first_name"] or "there",
            business=SETTINGS.business_name,
            size=recipient.custom["size"] or "in stock",
            code="BENCH20",
            link=_link(i),
        )
        if "stop" not in text.lower():
            text = f"{text}\n{SETTINGS.opt_out_footer[language]}"
    baseline = time.perf_counter() - started
    return Measurement(size, seconds, baseline, unit="messages")
