"""What other domains call about WhatsApp templates: check them, move their status, and build
the JSON Meta expects to create one or to send one to a contact.

``validate`` · ``ensure_valid`` · ``transition`` · ``from_meta_status`` · ``quality_from_meta`` ·
``render_components`` · ``message_payload`` · ``submission_payload``
"""

from __future__ import annotations

from typing import Any, Protocol

from herald.kit.errors import Unprocessable
from herald.whatsapp.checks import Problem, check_template
from herald.whatsapp.components import Component, dump, parse_component
from herald.whatsapp.lifecycle import from_meta_status, quality_from_meta, transition
from herald.whatsapp.models import ParameterFormat, TemplateCategory
from herald.whatsapp.rendering import TemplateValues, render

__all__ = [
    "Problem",
    "TemplateContent",
    "TemplateValues",
    "ensure_valid",
    "from_meta_status",
    "message_payload",
    "quality_from_meta",
    "render_components",
    "submission_payload",
    "transition",
    "validate",
]

SUMMARY_SHOWN = 3


class TemplateContent(Protocol):
    """What a template is made of: a stored row or a request that would create one."""

    @property
    def name(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def category(self) -> TemplateCategory: ...
    @property
    def parameter_format(self) -> ParameterFormat: ...
    @property
    def components(self) -> list[dict[str, Any]]: ...


def validate(template: TemplateContent) -> list[Problem]:
    """Every rule of Meta's the template breaks, each with its JSON path; empty when valid."""
    return check_template(
        template.name,
        template.language,
        template.category,
        template.parameter_format,
        template.components,
    )


def ensure_valid(template: TemplateContent) -> list[Component]:
    """The parsed components, or a 422 listing every problem."""
    problems = validate(template)
    if problems:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:SUMMARY_SHOWN])
        more = len(problems) - SUMMARY_SHOWN
        raise Unprocessable(
            f"The template breaks {len(problems)} of WhatsApp's rules. {summary}"
            + (f" (and {more} more, listed in errors)" if more > 0 else ""),
            errors=[{"field": p.field, "message": p.message} for p in problems],
        )
    parsed = [parse_component(raw, "")[0] for raw in template.components]
    return [c for c in parsed if c is not None]


def render_components(template: TemplateContent, values: TemplateValues) -> list[dict[str, Any]]:
    """The Cloud API ``template.components`` that fill the template with ``values`` (422 naming
    every missing or extra value)."""
    return render(
        ensure_valid(template),
        values,
        named=template.parameter_format is ParameterFormat.NAMED,
        authentication=template.category is TemplateCategory.AUTHENTICATION,
    )


def message_payload(template: TemplateContent, to: str, values: TemplateValues) -> dict[str, Any]:
    """The whole body of ``POST /{phone_number_id}/messages`` sending the template to ``to``.
    ``components`` is left out when the template takes no values, as Meta allows."""
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    components = render_components(template, values)
    if components:
        body["components"] = components
    return {"messaging_product": "whatsapp", "to": to, "type": "template", "template": body}


def submission_payload(template: TemplateContent) -> dict[str, Any]:
    """The body of ``POST /{waba_id}/message_templates`` creating the template at Meta.
    ``parameter_format`` is sent only for NAMED, POSITIONAL being Meta's default."""
    payload: dict[str, Any] = {
        "name": template.name,
        "language": template.language,
        "category": str(template.category),
    }
    if template.parameter_format is ParameterFormat.NAMED:
        payload["parameter_format"] = str(template.parameter_format)
    payload["components"] = [dump(c) for c in ensure_valid(template)]
    return payload
