"""Meta's template rules, checked before anything is submitted.

Every broken rule is reported with the JSON path of the value to fix
(``components[1].buttons[2].text``), so that one round trip shows all of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from herald.kit.wording import with_article
from herald.whatsapp.components import (
    MEDIA_FORMATS,
    Body,
    Button,
    Buttons,
    Component,
    CopyCodeButton,
    Footer,
    Header,
    HeaderFormat,
    NamedExample,
    OtpButton,
    OtpType,
    PhoneNumberButton,
    QuickReplyButton,
    UrlButton,
    parse_component,
)
from herald.whatsapp.models import ParameterFormat, TemplateCategory

NAME = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$")
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
POSITIONAL_NAME = re.compile(r"^[1-9][0-9]*$")
PARAMETER_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
PHONE = re.compile(r"^\+?[0-9]{6,20}$")

HEADER_TEXT_MAX = 60
BODY_TEXT_MAX = 1024
FOOTER_TEXT_MAX = 60
LABEL_MAX = 25
URL_MAX = 2000
BUTTONS_MAX = 10
COPY_CODE_MAX = 15
CODE_EXPIRATION_MINUTES = range(1, 91)
BUTTON_LIMITS = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
UNIQUE_COMPONENTS = ("HEADER", "BODY", "FOOTER", "BUTTONS")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def braces(name: str) -> str:
    return "{{" + name + "}}"


def placeholders(text: str) -> list[str]:
    """What is written between ``{{`` and ``}}``, in order, repeats included."""
    return PLACEHOLDER.findall(text)


class TemplateChecker:
    """Collects the problems of one template; ``check`` runs every rule."""

    def __init__(self, category: TemplateCategory, parameter_format: ParameterFormat) -> None:
        self.auth = category is TemplateCategory.AUTHENTICATION
        self.named = parameter_format is ParameterFormat.NAMED
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append(Problem(field, message))

    def check(self, name: str, language: str, components: Sequence[Any]) -> list[Problem]:
        if not NAME.fullmatch(name):
            self.add("name", "use 1 to 512 lowercase letters, digits and underscores")
        if not LANGUAGE.fullmatch(language):
            self.add("language", "use a language code such as en, en_US or pt_BR")
        self.structure(components)
        for index, raw in enumerate(components):
            path = f"components[{index}]"
            component, errors = parse_component(raw, path)
            for field, message in errors:
                self.add(field, message)
            if component is not None:
                self.component(component, path)
        return self.problems

    def structure(self, components: Sequence[Any]) -> None:
        types = Counter(c.get("type") for c in components if isinstance(c, dict))
        for kind in UNIQUE_COMPONENTS:
            if types[kind] > 1:
                self.add("components", f"at most one {kind} component; found {types[kind]}")
        if types["BODY"] == 0:
            self.add("components", "a BODY component is required")
        if self.auth and types["BUTTONS"] == 0:
            self.add("components", "AUTHENTICATION templates need BUTTONS with one OTP button")

    def component(self, component: Component, path: str) -> None:
        if isinstance(component, Header):
            self.header(component, path)
        elif isinstance(component, Body) and self.auth:
            self.body_auth(component, path)
        elif isinstance(component, Body):
            self.body(component, path)
        elif isinstance(component, Footer) and self.auth:
            self.footer_auth(component, path)
        elif isinstance(component, Footer):
            self.footer(component, path)
        elif self.auth:
            self.buttons_auth(component, path)
        else:
            self.buttons(component, path)

    # Parameters and their examples

    def parameters(self, text: str, path: str) -> list[str]:
        """The distinct parameters of ``text`` in order of first appearance."""
        pattern = PARAMETER_NAME if self.named else POSITIONAL_NAME
        found = placeholders(text)
        for bad in dict.fromkeys(p for p in found if not pattern.match(p)):
            if self.named:
                self.add(
                    path,
                    f"{braces(bad)} is not a valid parameter name: use lowercase "
                    "letters, digits and underscores, starting with a letter or underscore",
                )
            else:
                self.add(
                    path,
                    f"{braces(bad)} is not a positional parameter: with "
                    "parameter_format POSITIONAL, write {{1}}, {{2}}…",
                )
        distinct = list(dict.fromkeys(p for p in found if pattern.match(p)))
        if not self.named and distinct != [str(n) for n in range(1, len(distinct) + 1)]:
            self.add(
                path,
                "number positional parameters {{1}} to {{n}} in the order they first "
                f"appear, without gaps; found {', '.join(map(braces, distinct))}",
            )
        return distinct

    def examples(
        self,
        params: list[str],
        positional: list[str] | None,
        named: list[NamedExample] | None,
        path: str,
        keys: tuple[str, str],
        text: str,
    ) -> None:
        """One example per parameter, in the key that matches the parameter format (a text
        whose only placeholders are malformed has had its problem reported already)."""
        positional_key, named_key = keys
        if not params:
            if (positional is not None or named is not None) and not placeholders(text):
                self.add(path, "the text has no parameters, so it takes no examples; remove them")
            return
        if self.named:
            self.named_examples(params, named, f"{path}.{named_key}")
            if positional is not None:
                self.add(
                    f"{path}.{positional_key}", f"NAMED templates give examples in {named_key}"
                )
            return
        if named is not None:
            self.add(
                f"{path}.{named_key}", f"POSITIONAL templates give examples in {positional_key}"
            )
        if (
            positional is None
            or len(positional) != len(params)
            or not all(map(str.strip, positional))
        ):
            self.add(
                f"{path}.{positional_key}",
                f"give {len(params)} non-empty example(s), one "
                f"per parameter in order ({', '.join(map(braces, params))})",
            )

    def named_examples(
        self, params: list[str], given: list[NamedExample] | None, path: str
    ) -> None:
        names = [e.param_name for e in given or []]
        missing = [p for p in params if p not in names]
        if missing:
            self.add(path, f"give an example for {', '.join(map(braces, missing))}")
        unused = [n for n in dict.fromkeys(names) if n not in params]
        if unused:
            self.add(path, f"the text does not use {', '.join(unused)}; remove those examples")
        repeated = [n for n, count in Counter(names).items() if count > 1]
        if repeated:
            self.add(path, f"one example per parameter; repeated: {', '.join(repeated)}")
        for index, example in enumerate(given or []):
            if not example.example.strip():
                self.add(f"{path}[{index}].example", "an example cannot be empty")

    def length(self, text: str, limit: int, path: str, what: str) -> None:
        if not text.strip():
            self.add(path, f"the {what} text cannot be empty")
        elif len(text) > limit:
            self.add(path, f"the {what} text is {len(text)} characters; Meta allows {limit}")

    # Components

    def header(self, header: Header, path: str) -> None:
        if self.auth:
            self.add(path, "AUTHENTICATION templates have no header; remove it")
            return
        example = header.example
        if header.format is HeaderFormat.TEXT:
            self.header_text(header, path)
            if example is not None and example.header_handle is not None:
                self.add(f"{path}.example.header_handle", "only media headers take a header_handle")
            return
        if header.text is not None:
            self.add(f"{path}.text", f"{with_article(header.format)} header has no text; remove it")
        if example is not None and (example.header_text or example.header_text_named_params):
            self.add(f"{path}.example", "a media header takes no text examples")
        handles = example.header_handle if example is not None else None
        if header.format in MEDIA_FORMATS:
            if not handles or len(handles) != 1 or not handles[0].strip():
                self.add(
                    f"{path}.example.header_handle",
                    f"{with_article(header.format)} header needs one "
                    "header_handle: a sample uploaded with Meta's resumable upload API",
                )
        elif handles is not None:
            self.add(f"{path}.example.header_handle", "a LOCATION header takes no header_handle")

    def header_text(self, header: Header, path: str) -> None:
        if header.text is None:
            self.add(f"{path}.text", "a TEXT header needs text")
            return
        self.length(header.text, HEADER_TEXT_MAX, f"{path}.text", "header")
        if "\n" in header.text:
            self.add(f"{path}.text", "header text cannot contain line breaks")
        params = self.parameters(header.text, f"{path}.text")
        if len(params) > 1:
            self.add(f"{path}.text", f"a header takes at most one parameter; found {len(params)}")
        example = header.example
        self.examples(
            params,
            example.header_text if example else None,
            example.header_text_named_params if example else None,
            f"{path}.example",
            ("header_text", "header_text_named_params"),
            header.text,
        )

    def body(self, body: Body, path: str) -> None:
        if body.add_security_recommendation is not None:
            self.add(f"{path}.add_security_recommendation", "only AUTHENTICATION templates take it")
        if body.text is None:
            self.add(f"{path}.text", "the body needs text")
            return
        self.length(body.text, BODY_TEXT_MAX, f"{path}.text", "body")
        params = self.parameters(body.text, f"{path}.text")
        stripped = body.text.strip()
        if params and (stripped.startswith("{{") or stripped.endswith("}}")):
            self.add(
                f"{path}.text",
                "the body cannot start or end with a parameter (Meta "
                "rejects it); put words before the first and after the last",
            )
        example = body.example
        rows = example.body_text if example else None
        if rows is not None and len(rows) != 1:
            self.add(f"{path}.example.body_text", 'body_text holds one list: [["a", "b"]]')
        self.examples(
            params,
            None if rows is None else (rows[0] if rows else []),
            example.body_text_named_params if example else None,
            f"{path}.example",
            ("body_text", "body_text_named_params"),
            body.text,
        )

    def body_auth(self, body: Body, path: str) -> None:
        if body.text is not None:
            self.add(
                f"{path}.text",
                "AUTHENTICATION templates use Meta's fixed body "
                '("{{1}} is your verification code."); remove text',
            )
        if body.example is not None:
            self.add(f"{path}.example", "AUTHENTICATION bodies take no example; remove it")

    def footer(self, footer: Footer, path: str) -> None:
        if footer.code_expiration_minutes is not None:
            self.add(f"{path}.code_expiration_minutes", "only AUTHENTICATION templates take it")
        if footer.text is None:
            self.add(f"{path}.text", "the footer needs text")
            return
        self.length(footer.text, FOOTER_TEXT_MAX, f"{path}.text", "footer")
        if placeholders(footer.text):
            self.add(f"{path}.text", "a footer cannot have parameters")

    def footer_auth(self, footer: Footer, path: str) -> None:
        if footer.text is not None:
            self.add(
                f"{path}.text",
                "AUTHENTICATION footers are Meta's fixed text; set code_expiration_minutes instead",
            )
        minutes = footer.code_expiration_minutes
        if minutes is not None and minutes not in CODE_EXPIRATION_MINUTES:
            self.add(f"{path}.code_expiration_minutes", "use 1 to 90 minutes")

    def buttons(self, component: Buttons, path: str) -> None:
        buttons = component.buttons
        if not buttons:
            self.add(f"{path}.buttons", "give at least one button, or remove BUTTONS")
        if len(buttons) > BUTTONS_MAX:
            self.add(f"{path}.buttons", f"at most {BUTTONS_MAX} buttons; found {len(buttons)}")
        kinds = Counter[str](b.type for b in buttons)
        for kind, limit in BUTTON_LIMITS.items():
            if kinds[kind] > limit:
                self.add(
                    f"{path}.buttons", f"at most {limit} {kind} button(s); found {kinds[kind]}"
                )
        groups = [isinstance(b, QuickReplyButton) for b in buttons]
        if sum(a != b for a, b in pairwise(groups)) > 1:
            self.add(
                f"{path}.buttons",
                "group the quick replies together, before or after the "
                "other buttons, not mixed among them",
            )
        for index, button in enumerate(buttons):
            self.button(button, f"{path}.buttons[{index}]")

    def button(self, button: Button, path: str) -> None:
        if isinstance(button, OtpButton):
            self.add(f"{path}.type", "OTP buttons belong to AUTHENTICATION templates")
            return
        if isinstance(button, CopyCodeButton):
            if not button.example.strip() or len(button.example) > COPY_CODE_MAX:
                self.add(
                    f"{path}.example", f"give a sample code of 1 to {COPY_CODE_MAX} characters"
                )
            return
        self.label(button.text, f"{path}.text")
        if isinstance(button, UrlButton):
            self.url_button(button, path)
        elif isinstance(button, PhoneNumberButton) and not PHONE.fullmatch(button.phone_number):
            self.add(
                f"{path}.phone_number", "give the number in international format: +15551234567"
            )

    def label(self, text: str, path: str) -> None:
        if not text.strip():
            self.add(path, "the button label cannot be empty")
        elif len(text) > LABEL_MAX:
            self.add(path, f"the button label is {len(text)} characters; Meta allows {LABEL_MAX}")

    def url_button(self, button: UrlButton, path: str) -> None:
        url = button.url
        if not url.startswith(("https://", "http://")) or len(url) > URL_MAX:
            self.add(f"{path}.url", f"give an http(s) URL of at most {URL_MAX} characters")
        variables = placeholders(url)
        if variables and (variables != ["1"] or not url.endswith("{{1}}")):
            self.add(f"{path}.url", "a URL can hold one parameter, {{1}}, at its very end")
        if variables and (not button.example or len(button.example) != 1):
            self.add(f"{path}.example", "a URL with {{1}} needs example: one full sample URL")
        if not variables and button.example is not None:
            self.add(f"{path}.example", "a URL without {{1}} takes no example; remove it")

    def buttons_auth(self, component: Buttons, path: str) -> None:
        buttons = component.buttons
        if len(buttons) != 1 or not isinstance(buttons[0], OtpButton):
            self.add(
                f"{path}.buttons",
                "AUTHENTICATION templates have exactly one OTP button "
                "(otp_type COPY_CODE, ONE_TAP or ZERO_TAP)",
            )
        for index, button in enumerate(buttons):
            if isinstance(button, OtpButton):
                self.otp_button(button, f"{path}.buttons[{index}]")

    def otp_button(self, button: OtpButton, path: str) -> None:
        if button.text is not None:
            self.label(button.text, f"{path}.text")
        if button.otp_type is not OtpType.COPY_CODE and not button.supported_apps:
            self.add(
                f"{path}.supported_apps",
                f"{with_article(button.otp_type)} button needs supported_apps: "
                "the Android package name and signature hash",
            )
        if button.otp_type is OtpType.ZERO_TAP and button.zero_tap_terms_accepted is not True:
            self.add(
                f"{path}.zero_tap_terms_accepted",
                "ZERO_TAP buttons need zero_tap_terms_accepted: true (Meta's zero-tap terms)",
            )


def check_template(
    name: str,
    language: str,
    category: TemplateCategory,
    parameter_format: ParameterFormat,
    components: Sequence[Any],
) -> list[Problem]:
    """Every problem of a template, in the order of the JSON; empty when Meta would accept it."""
    return TemplateChecker(category, parameter_format).check(name, language, components)
