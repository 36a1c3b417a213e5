"""Send-time payloads, compared with the literal JSON the Cloud API expects."""

from __future__ import annotations

from typing import Any

import pytest

from herald.kit.errors import Unprocessable
from herald.whatsapp.templates import (
    TemplateValues,
    message_payload,
    render_components,
    submission_payload,
)
from tests.whatsapp.helpers import (
    AUTH_COMPONENTS,
    HANDLE,
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
    phone_button,
    quick_reply,
    text_header,
    url_button,
)

SHOP = Draft(
    [
        text_header("Your order, {{1}}", ["Ada"]),
        ORDER_BODY,
        footer(),
        buttons(quick_reply("Yes"), quick_reply("No"), url_button(), copy_code(), phone_button()),
    ]
)


def text(value: str) -> dict[str, str]:
    return {"type": "text", "text": value}


def button(sub_type: str, index: int, parameter: dict[str, Any]) -> dict[str, Any]:
    return {"type": "button", "sub_type": sub_type, "index": str(index), "parameters": [parameter]}


def test_positional() -> None:
    values = TemplateValues(
        header="Ada", body=["Ada", "A-17"], buttons={0: "yes-17", 2: "A-17", 3: "SAVE20"}
    )
    assert render_components(SHOP, values) == [
        {"type": "header", "parameters": [text("Ada")]},
        {"type": "body", "parameters": [text("Ada"), text("A-17")]},
        button("quick_reply", 0, {"type": "payload", "payload": "yes-17"}),
        button("url", 2, text("A-17")),
        button("copy_code", 3, {"type": "coupon_code", "coupon_code": "SAVE20"}),
    ]


def test_named() -> None:
    draft = named(
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "For {{first_name}}",
            "example": {"header_text_named_params": [{"param_name": "first_name", "example": "A"}]},
        },
        named_body(
            "Hi {{first_name}}, order {{order_id}} shipped.", {"first_name": "A", "order_id": "1"}
        ),
    )
    values = TemplateValues(header="Ada", body={"order_id": "A-17", "first_name": "Ada"})
    assert render_components(draft, values) == [
        {"type": "header", "parameters": [{**text("Ada"), "parameter_name": "first_name"}]},
        {
            "type": "body",
            "parameters": [
                {**text("Ada"), "parameter_name": "first_name"},
                {**text("A-17"), "parameter_name": "order_id"},
            ],
        },
    ]


@pytest.mark.parametrize("fmt", ["IMAGE", "VIDEO", "DOCUMENT"])
def test_media_header(fmt: str) -> None:
    link = "https://cdn.example/file"
    values = TemplateValues(header=link, body=["Ada", "A-17"])
    kind = fmt.lower()
    assert render_components(Draft([media_header(fmt), ORDER_BODY]), values)[0] == {
        "type": "header",
        "parameters": [{"type": kind, kind: {"link": link}}],
    }


def test_location_header() -> None:
    draft = Draft([{"type": "HEADER", "format": "LOCATION"}, ORDER_BODY])
    values = TemplateValues.model_validate(
        {"location": {"latitude": 52.5, "longitude": 13.4, "name": "Shop"}, "body": ["a", "b"]}
    )
    place = {"latitude": 52.5, "longitude": 13.4, "name": "Shop"}
    assert render_components(draft, values)[0] == {
        "type": "header",
        "parameters": [{"type": "location", "location": place}],
    }


def test_authentication_code_goes_to_body_and_button() -> None:
    assert render_components(auth(*AUTH_COMPONENTS), TemplateValues(body=["428913"])) == [
        {"type": "body", "parameters": [text("428913")]},
        button("url", 0, text("428913")),
    ]


def test_message_payload() -> None:
    values = TemplateValues(body=["Ada", "A-17"])
    assert message_payload(Draft(), "+15551234567", values) == {
        "messaging_product": "whatsapp",
        "to": "+15551234567",
        "type": "template",
        "template": {
            "name": "order_ready",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [text("Ada"), text("A-17")]}],
        },
    }


@pytest.mark.parametrize("draft", [Draft(), named()], ids=["positional", "named"])
def test_message_without_values_has_no_components(draft: Draft) -> None:
    draft.components = [
        body("Our sale starts today."),
        buttons(url_button("https://s.example", None)),
    ]
    for values in (TemplateValues(), TemplateValues(body={})):
        assert message_payload(draft, "15551234567", values)["template"] == {
            "name": "order_ready",
            "language": {"code": "en_US"},
        }


def fields_of(draft: Draft, values: dict[str, Any]) -> list[str]:
    with pytest.raises(Unprocessable) as caught:
        render_components(draft, TemplateValues.model_validate(values))
    return [e["field"] for e in caught.value.extra["errors"]]


def test_missing_and_extra_values_are_all_named() -> None:
    values = {
        "location": {"latitude": 1, "longitude": 2},
        "body": ["Ada"],
        "buttons": {"1": "x", "4": "y"},
    }
    assert fields_of(SHOP, values) == [
        "values.location",
        "values.header",
        "values.body",
        "values.buttons.2",
        "values.buttons.3",
        "values.buttons.4",
    ]


def test_named_values_missing_and_extra() -> None:
    draft = named(named_body("Hi {{first}} {{last}} there.", {"first": "a", "last": "b"}))
    assert fields_of(draft, {"body": {"first": "Ada", "city": "Paris"}}) == ["values.body"] * 2
    assert fields_of(draft, {"body": ["Ada", "Lovelace"]}) == ["values.body"]


@pytest.mark.parametrize("bad", ["two\nlines", "tab\there", "five     spaces", " "])
def test_parameter_text_meta_refuses(bad: str) -> None:
    assert fields_of(Draft(), {"body": ["Ada", bad]}) == ["values.body[1]"]


def test_values_for_a_template_without_them() -> None:
    draft = Draft([body("Our sale starts today.")])
    assert fields_of(draft, {"header": "x", "buttons": {"0": "y"}, "body": ["z"]}) == [
        "values.body",
        "values.header",
        "values.buttons",
    ]


def test_media_link_must_be_a_url() -> None:
    draft = Draft([media_header(), ORDER_BODY])
    assert fields_of(draft, {"header": "cat.jpg", "body": ["a", "b"]}) == ["values.header"]


def test_rendering_an_invalid_template_lists_its_problems() -> None:
    assert fields_of(Draft([body("Hi {{2}} there.", ["a"])]), {"body": ["a"]}) == [
        "components[0].text"
    ]


def test_submission_payload() -> None:
    assert submission_payload(Draft([media_header(), ORDER_BODY, buttons(copy_code())])) == {
        "name": "order_ready",
        "language": "en_US",
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [HANDLE]}},
            ORDER_BODY,
            {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE20"}]},
        ],
    }


def test_submission_payload_named_and_authentication() -> None:
    draft = named(named_body("Hi {{first}} there.", {"first": "Ada"}))
    assert submission_payload(draft)["parameter_format"] == "NAMED"
    assert submission_payload(auth(*AUTH_COMPONENTS)) == {
        "name": "order_ready",
        "language": "en_US",
        "category": "AUTHENTICATION",
        "components": AUTH_COMPONENTS,
    }
