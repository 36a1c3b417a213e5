"""Filling a valid template with a contact's values: Meta's ``template.components`` to send.

A button's values are keyed by its position among all the template's buttons, which is also
the ``index`` Meta expects.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

from herald.kit.errors import Unprocessable
from herald.whatsapp.checks import COPY_CODE_MAX, placeholders
from herald.whatsapp.components import (
    MEDIA_FORMATS,
    Body,
    Buttons,
    Component,
    CopyCodeButton,
    Header,
    HeaderFormat,
    Model,
    OtpButton,
    QuickReplyButton,
    UrlButton,
)

Value = Annotated[str, Field(max_length=1024)]
BAD_TEXT = re.compile(r"[\n\t]| {5,}")
"""Meta refuses parameter text with line breaks, tabs or more than four spaces in a row."""


class Location(Model):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: Annotated[str, Field(max_length=1000)] | None = None
    address: Annotated[str, Field(max_length=1000)] | None = None


class TemplateValues(Model):
    """The values of one send. ``body`` is a list for POSITIONAL templates ({{1}} first) and an
    object by parameter name for NAMED ones; AUTHENTICATION templates take the code as
    ``body: ["123456"]``, which Meta also puts on the OTP button."""

    header: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="The header's parameter, or the link of its image/video/file."
    )
    location: Location | None = Field(default=None, description="A LOCATION header's place.")
    body: list[Value] | dict[Annotated[str, Field(max_length=512)], Value] = Field(
        default_factory=list, max_length=100
    )
    buttons: dict[int, Value] = Field(
        default_factory=dict,
        max_length=10,
        description="By button index: a URL's {{1}} suffix, a copy-code coupon, a quick-reply "
        "payload (optional).",
    )


class Renderer:
    def __init__(self, values: TemplateValues, *, named: bool, authentication: bool) -> None:
        self.values = values
        self.named = named
        self.authentication = authentication
        self.problems: list[dict[str, str]] = []
        self.used_buttons: set[int] = set()

    def problem(self, field: str, message: str) -> None:
        self.problems.append({"field": f"values.{field}", "message": message})

    def text(self, value: str, field: str) -> dict[str, Any]:
        if not value.strip() or BAD_TEXT.search(value):
            self.problem(field, "give non-empty text without line breaks, tabs or 5+ spaces")
        return {"type": "text", "text": value}

    def link(self, value: str, field: str) -> str:
        if not value.startswith(("https://", "http://")):
            self.problem(field, "give the media's http(s) link")
        return value

    def header(self, header: Header) -> dict[str, Any] | None:
        given = self.values.header
        if header.format is not HeaderFormat.LOCATION and self.values.location is not None:
            self.problem("location", "only a LOCATION header takes a location; remove it")
        if header.format is HeaderFormat.LOCATION:
            if given is not None:
                self.problem("header", "a LOCATION header takes location, not header")
            return self.location()
        if header.format in MEDIA_FORMATS:
            if given is None:
                self.problem("header", f"the {header.format} header needs its link")
                return None
            kind = header.format.lower()
            media = {"type": kind, kind: {"link": self.link(given, "header")}}
            return {"type": "header", "parameters": [media]}
        params = placeholders(header.text or "")
        if not params:
            if given is not None:
                self.problem("header", "the header has no parameter; remove this value")
            return None
        if given is None:
            self.problem("header", f"the header needs a value for {{{{{params[0]}}}}}")
            return None
        parameter = self.text(given, "header")
        if self.named:
            parameter["parameter_name"] = params[0]
        return {"type": "header", "parameters": [parameter]}

    def location(self) -> dict[str, Any] | None:
        if self.values.location is None:
            self.problem("location", "the LOCATION header needs latitude and longitude")
            return None
        place = self.values.location.model_dump(exclude_none=True)
        return {"type": "header", "parameters": [{"type": "location", "location": place}]}

    def body(self, body: Body) -> dict[str, Any] | None:
        # An AUTHENTICATION body is Meta's fixed "{{1}} is your verification code."
        params = (
            ["1"] if self.authentication else list(dict.fromkeys(placeholders(body.text or "")))
        )
        given = self.values.body
        if not params and not given:
            return None
        if self.named and not self.authentication:
            parameters = self.named_body(params, given)
        else:
            parameters = self.positional_body(params, given)
        return {"type": "body", "parameters": parameters} if parameters else None

    def positional_body(self, params: list[str], given: Any) -> list[dict[str, Any]]:
        if not isinstance(given, list):
            self.problem("body", f"give the body's {len(params)} value(s) as a list")
            return []
        if len(given) != len(params):
            self.problem(
                "body", f"the body takes {len(params)} value(s), in order; got {len(given)}"
            )
        return [self.text(v, f"body[{i}]") for i, v in enumerate(given[: len(params)])]

    def named_body(self, params: list[str], given: Any) -> list[dict[str, Any]]:
        if not isinstance(given, dict):
            self.problem("body", "give the body's values as an object by parameter name")
            return []
        missing = [p for p in params if p not in given]
        extra = [k for k in given if k not in params]
        if missing:
            self.problem("body", f"missing values for {', '.join(missing)}")
        if extra:
            self.problem("body", f"the body has no parameter {', '.join(extra)}; remove them")
        return [
            {**self.text(given[p], f"body.{p}"), "parameter_name": p} for p in params if p in given
        ]

    def buttons(self, component: Buttons) -> list[dict[str, Any]]:
        rendered = []
        for index, button in enumerate(component.buttons):
            parameter = self.button_parameter(button, index)
            if parameter is not None:
                sub_type, param = parameter
                rendered.append(
                    {
                        "type": "button",
                        "sub_type": sub_type,
                        "index": str(index),
                        "parameters": [param],
                    }
                )
        for index in sorted(set(self.values.buttons) - self.used_buttons):
            self.problem(f"buttons.{index}", "this button takes no value; remove it")
        return rendered

    def button_parameter(self, button: Any, index: int) -> tuple[str, dict[str, Any]] | None:
        if isinstance(button, OtpButton):
            code = (
                self.values.body[0]
                if isinstance(self.values.body, list) and self.values.body
                else ""
            )
            return "url", {"type": "text", "text": code}
        value = self.values.buttons.get(index)
        field = f"buttons.{index}"
        if isinstance(button, QuickReplyButton):
            self.used_buttons.add(index)
            return None if value is None else ("quick_reply", {"type": "payload", "payload": value})
        if isinstance(button, CopyCodeButton):
            self.used_buttons.add(index)
            if value is None or not value.strip() or len(value) > COPY_CODE_MAX:
                self.problem(field, f"give the coupon code (1 to {COPY_CODE_MAX} characters)")
                return None
            return "copy_code", {"type": "coupon_code", "coupon_code": value}
        if isinstance(button, UrlButton) and placeholders(button.url):
            self.used_buttons.add(index)
            if value is None:
                self.problem(field, "give the text that replaces {{1}} at the end of the URL")
                return None
            return "url", self.text(value, field)
        return None


def render(
    components: list[Component], values: TemplateValues, *, named: bool, authentication: bool
) -> list[dict[str, Any]]:
    """Meta's send-time ``components`` for parsed, valid authoring components."""
    renderer = Renderer(values, named=named, authentication=authentication)
    rendered: list[dict[str, Any]] = []
    for component in components:
        if isinstance(component, Header):
            header = renderer.header(component)
            rendered += [header] if header else []
        elif isinstance(component, Body):
            body = renderer.body(component)
            rendered += [body] if body else []
        elif isinstance(component, Buttons):
            rendered += renderer.buttons(component)
    if not any(isinstance(c, Header) for c in components):
        if values.header is not None:
            renderer.problem("header", "the template has no header; remove this value")
        if values.location is not None:
            renderer.problem("location", "the template has no LOCATION header; remove it")
    if values.buttons and not any(isinstance(c, Buttons) for c in components):
        renderer.problem("buttons", "the template has no buttons; remove these values")
    if renderer.problems:
        raise Unprocessable(
            "The values do not fit the template: "
            + "; ".join(f"{p['field']}: {p['message']}" for p in renderer.problems[:3]),
            errors=renderer.problems,
        )
    return rendered
