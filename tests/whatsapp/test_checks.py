"""Meta's authoring rules: valid templates of every kind pass, each broken rule is named with
its JSON path, and one template with many problems lists them all."""

from __future__ import annotations

import pytest

from herald.kit.errors import Unprocessable
from herald.whatsapp.templates import ensure_valid, validate
from tests.whatsapp.helpers import (
    AUTH_COMPONENTS,
    ORDER_BODY,
    Draft,
    auth,
    body,
    buttons,
    copy_code,
    footer,
    media_header,
    named,
    named_body,
    otp,
    phone_button,
    quick_reply,
    text_header,
    url_button,
)

APP = {"package_name": "com.example.shop", "signature_hash": "K8a/AINcGX7"}
VALID = {
    "everything": Draft(
        [
            text_header("Your order, {{1}}", ["Ada"]),
            ORDER_BODY,
            footer(),
            buttons(
                quick_reply("Yes"),
                quick_reply("No"),
                url_button(),
                phone_button(),
                copy_code(),
            ),
        ]
    ),
    "body only": Draft([body("Our sale starts today.")]),
    "image": Draft([media_header("IMAGE"), ORDER_BODY]),
    "video": Draft([media_header("VIDEO"), ORDER_BODY]),
    "document": Draft([media_header("DOCUMENT"), ORDER_BODY]),
    "location": Draft([{"type": "HEADER", "format": "LOCATION"}, ORDER_BODY]),
    "static url": Draft([ORDER_BODY, buttons(url_button("https://shop.example", None))]),
    "quick replies last": Draft([ORDER_BODY, buttons(url_button(), quick_reply(), quick_reply())]),
    "repeated parameter": Draft([body("Hi {{1}}, yes {{1}}, order {{2}}.", ["Ada", "A-1"])]),
    "named": named(
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "For {{first_name}}",
            "example": {"header_text_named_params": [{"param_name": "first_name", "example": "A"}]},
        },
        named_body(
            "Hi {{first_name}}, order {{order_id}} shipped.",
            {"first_name": "Ada", "order_id": "A-1"},
        ),
    ),
    "authentication copy code": auth(*AUTH_COMPONENTS),
    "authentication one tap": auth({"type": "BODY"}, buttons(otp("ONE_TAP", supported_apps=[APP]))),
    "authentication zero tap": auth(
        {"type": "BODY"},
        buttons(otp("ZERO_TAP", supported_apps=[APP], zero_tap_terms_accepted=True)),
    ),
}


@pytest.mark.parametrize("draft", VALID.values(), ids=VALID.keys())
def test_valid_templates(draft: Draft) -> None:
    assert validate(draft) == []
    assert len(ensure_valid(draft)) == len(draft.components)


LONG = "x" * 61
INVALID: dict[str, tuple[Draft, str, str]] = {
    "name": (Draft(name="Order Ready"), "name", "lowercase"),
    "language": (Draft(language="english"), "language", "language code"),
    "no body": (Draft([footer()]), "components", "BODY component is required"),
    "two footers": (Draft([ORDER_BODY, footer(), footer()]), "components", "at most one FOOTER"),
    "unknown component": (Draft([ORDER_BODY, {"type": "CAROUSEL"}]), "components[1]", "tag"),
    "unknown field": (Draft([{**ORDER_BODY, "colour": "red"}]), "components[0].colour", "Extra"),
    "header length": (Draft([text_header(LONG), ORDER_BODY]), "components[0].text", "60"),
    "header params": (
        Draft([text_header("{{1}} and {{2}} x", ["a", "b"]), ORDER_BODY]),
        "components[0].text",
        "at most one parameter",
    ),
    "header newline": (Draft([text_header("a\nb"), ORDER_BODY]), "components[0].text", "line"),
    "header example": (
        Draft([text_header("Hi {{1}}"), ORDER_BODY]),
        "components[0].example.header_text",
        "example",
    ),
    "media handle": (
        Draft([{"type": "HEADER", "format": "IMAGE"}, ORDER_BODY]),
        "components[0].example.header_handle",
        "header_handle",
    ),
    "media text": (
        Draft([{**media_header(), "text": "Hi"}, ORDER_BODY]),
        "components[0].text",
        "has no text",
    ),
    "body length": (Draft([body("x" * 1025)]), "components[0].text", "1024"),
    "body empty": (Draft([body("  ")]), "components[0].text", "empty"),
    "body gap": (
        Draft([body("Hi {{1}} and {{3}}.", ["a", "b"])]),
        "components[0].text",
        "without gaps",
    ),
    "body order": (
        Draft([body("Hi {{2}} and {{1}}.", ["a", "b"])]),
        "components[0].text",
        "order they first appear",
    ),
    "body starts with parameter": (
        Draft([body("{{1}}, your order {{2}} is ready.", ["a", "b"])]),
        "components[0].text",
        "start or end",
    ),
    "body ends with parameter": (
        Draft([body("Your order is {{1}}", ["a"])]),
        "components[0].text",
        "start or end",
    ),
    "body examples missing": (
        Draft([body()]),
        "components[0].example.body_text",
        "2 non-empty example",
    ),
    "body examples count": (
        Draft([body(examples=["only one"])]),
        "components[0].example.body_text",
        "one per parameter",
    ),
    "body examples nested": (
        Draft([{**body(), "example": {"body_text": [["a", "b"], ["c", "d"]]}}]),
        "components[0].example.body_text",
        "one list",
    ),
    "examples without parameters": (
        Draft([body("No parameters here.", ["a"])]),
        "components[0].example",
        "no parameters",
    ),
    "positional with a name": (
        Draft([body("Hi {{name}} there.", ["a"])]),
        "components[0].text",
        "not a positional parameter",
    ),
    "named with a bad name": (
        named(named_body("Hi {{First}} there.", {"First": "a"})),
        "components[0].text",
        "not a valid parameter name",
    ),
    "named example missing": (
        named(named_body("Hi {{first}} {{last}} there.", {"first": "a"})),
        "components[0].example.body_text_named_params",
        "{{last}}",
    ),
    "named example unused": (
        named(named_body("Hi {{first}} there.", {"first": "a", "city": "b"})),
        "components[0].example.body_text_named_params",
        "does not use city",
    ),
    "named example empty": (
        named(named_body("Hi {{first}} there.", {"first": " "})),
        "components[0].example.body_text_named_params[0].example",
        "empty",
    ),
    "footer length": (Draft([ORDER_BODY, footer(LONG)]), "components[1].text", "60"),
    "footer parameter": (Draft([ORDER_BODY, footer("Bye {{1}}")]), "components[1].text", "cannot"),
    "no buttons": (Draft([ORDER_BODY, buttons()]), "components[1].buttons", "at least one"),
    "eleven buttons": (
        Draft([ORDER_BODY, buttons(*[quick_reply(f"Q{i}") for i in range(11)])]),
        "components[1].buttons",
        "at most 10 buttons",
    ),
    "three urls": (
        Draft([ORDER_BODY, buttons(url_button(), url_button(), url_button())]),
        "components[1].buttons",
        "at most 2 URL",
    ),
    "two phones": (
        Draft([ORDER_BODY, buttons(phone_button(), phone_button())]),
        "components[1].buttons",
        "at most 1 PHONE_NUMBER",
    ),
    "two copy codes": (
        Draft([ORDER_BODY, buttons(copy_code(), copy_code())]),
        "components[1].buttons",
        "at most 1 COPY_CODE",
    ),
    "quick replies mixed": (
        Draft([ORDER_BODY, buttons(quick_reply(), url_button(), quick_reply())]),
        "components[1].buttons",
        "group the quick replies",
    ),
    "label length": (
        Draft([ORDER_BODY, buttons(quick_reply("x" * 26))]),
        "components[1].buttons[0].text",
        "25",
    ),
    "url variable inside": (
        Draft([ORDER_BODY, buttons(url_button("https://s.example/{{1}}/x"))]),
        "components[1].buttons[0].url",
        "very end",
    ),
    "url two variables": (
        Draft([ORDER_BODY, buttons(url_button("https://s.example/{{1}}{{2}}"))]),
        "components[1].buttons[0].url",
        "one parameter",
    ),
    "url example missing": (
        Draft([ORDER_BODY, buttons(url_button(example=None))]),
        "components[1].buttons[0].example",
        "sample URL",
    ),
    "url scheme": (
        Draft([ORDER_BODY, buttons(url_button("ftp://s.example", None))]),
        "components[1].buttons[0].url",
        "http(s)",
    ),
    "copy code length": (
        Draft([ORDER_BODY, buttons(copy_code("X" * 16))]),
        "components[1].buttons[0].example",
        "15",
    ),
    "phone number": (
        Draft([ORDER_BODY, buttons(phone_button("call me"))]),
        "components[1].buttons[0].phone_number",
        "international",
    ),
    "otp outside authentication": (
        Draft([ORDER_BODY, buttons(otp())]),
        "components[1].buttons[0].type",
        "AUTHENTICATION",
    ),
    "authentication header": (
        auth(text_header("Code", None), *AUTH_COMPONENTS),
        "components[0]",
        "no header",
    ),
    "authentication body text": (
        auth({"type": "BODY", "text": "Your code is {{1}}."}, AUTH_COMPONENTS[2]),
        "components[0].text",
        "fixed body",
    ),
    "authentication without buttons": (auth({"type": "BODY"}), "components", "OTP button"),
    "authentication other button": (
        auth({"type": "BODY"}, buttons(quick_reply())),
        "components[1].buttons",
        "exactly one OTP",
    ),
    "one tap without apps": (
        auth({"type": "BODY"}, buttons(otp("ONE_TAP"))),
        "components[1].buttons[0].supported_apps",
        "package name",
    ),
    "zero tap without terms": (
        auth({"type": "BODY"}, buttons(otp("ZERO_TAP", supported_apps=[APP]))),
        "components[1].buttons[0].zero_tap_terms_accepted",
        "terms",
    ),
    "code expiration": (
        auth(
            AUTH_COMPONENTS[0],
            {"type": "FOOTER", "code_expiration_minutes": 91},
            AUTH_COMPONENTS[2],
        ),
        "components[1].code_expiration_minutes",
        "1 to 90",
    ),
    "security recommendation outside authentication": (
        Draft([{**ORDER_BODY, "add_security_recommendation": True}]),
        "components[0].add_security_recommendation",
        "AUTHENTICATION",
    ),
}


@pytest.mark.parametrize(("draft", "field", "fragment"), INVALID.values(), ids=INVALID.keys())
def test_each_rule(draft: Draft, field: str, fragment: str) -> None:
    problems = validate(draft)
    assert [p.field for p in problems] == [field], problems
    assert fragment in problems[0].message


def test_every_problem_is_listed_with_its_path() -> None:
    draft = Draft(
        [
            text_header("x" * 70),
            body("Hi {{1}} and {{3}}.", ["a", "b"]),
            footer("Bye {{1}}"),
            buttons(
                quick_reply("x" * 30), url_button("https://s.example/{{1}}/{{2}}"), quick_reply()
            ),
        ],
        name="Bad-Name",
    )
    fields = [p.field for p in validate(draft)]
    assert fields == [
        "name",
        "components[0].text",
        "components[1].text",
        "components[2].text",
        "components[3].buttons",
        "components[3].buttons[0].text",
        "components[3].buttons[1].url",
    ]
    with pytest.raises(Unprocessable) as caught:
        ensure_valid(draft)
    assert [e["field"] for e in caught.value.extra["errors"]] == fields
    assert "7 of WhatsApp's rules" in caught.value.detail


def test_examples_in_the_other_format_are_named_as_such() -> None:
    draft = named(
        {"type": "BODY", "text": "Hi {{first}} there.", "example": {"body_text": [["a"]]}}
    )
    assert [(p.field, p.message) for p in validate(draft)] == [
        ("components[0].example.body_text_named_params", "give an example for {{first}}"),
        (
            "components[0].example.body_text",
            "NAMED templates give examples in body_text_named_params",
        ),
    ]
