"""Sample templates in Meta's authoring format, valid unless a test changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from herald.whatsapp.models import ParameterFormat, TemplateCategory

HANDLE = "4::aW1hZ2UvanBlZw==:ARZ-sample"


def text_header(text: str = "Hello {{1}}", example: list[str] | None = None) -> dict[str, Any]:
    header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": text}
    if example is not None:
        header["example"] = {"header_text": example}
    return header


def media_header(fmt: str = "IMAGE") -> dict[str, Any]:
    return {"type": "HEADER", "format": fmt, "example": {"header_handle": [HANDLE]}}


def body(
    text: str = "Hi {{1}}, order {{2}} is ready.", examples: list[str] | None = None
) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "BODY", "text": text}
    if examples is not None:
        component["example"] = {"body_text": [examples]}
    return component


def named_body(text: str, examples: dict[str, str]) -> dict[str, Any]:
    params = [{"param_name": k, "example": v} for k, v in examples.items()]
    return {"type": "BODY", "text": text, "example": {"body_text_named_params": params}}


def footer(text: str = "Reply STOP to opt out") -> dict[str, Any]:
    return {"type": "FOOTER", "text": text}


def buttons(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "BUTTONS", "buttons": list(items)}


def quick_reply(text: str = "Yes") -> dict[str, Any]:
    return {"type": "QUICK_REPLY", "text": text}


def url_button(
    url: str = "https://shop.example/o/{{1}}", example: str | None = "A-1"
) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "URL", "text": "Track order", "url": url}
    if example is not None:
        button["example"] = [f"https://shop.example/o/{example}"]
    return button


def phone_button(number: str = "+15551234567") -> dict[str, Any]:
    return {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": number}


def copy_code(example: str = "SAVE20") -> dict[str, Any]:
    return {"type": "COPY_CODE", "example": example}


def otp(otp_type: str = "COPY_CODE", **extra: Any) -> dict[str, Any]:
    return {"type": "OTP", "otp_type": otp_type, **extra}


ORDER_BODY = body(examples=["Ada", "A-1"])
AUTH_COMPONENTS = [
    {"type": "BODY", "add_security_recommendation": True},
    {"type": "FOOTER", "code_expiration_minutes": 10},
    buttons(otp(text="Copy code")),
]


@dataclass
class Draft:
    """A template's content, as the checks and renderers read it."""

    components: list[dict[str, Any]] = field(default_factory=lambda: [ORDER_BODY])
    name: str = "order_ready"
    language: str = "en_US"
    category: TemplateCategory = TemplateCategory.MARKETING
    parameter_format: ParameterFormat = ParameterFormat.POSITIONAL

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "category": str(self.category),
            "parameter_format": str(self.parameter_format),
            "components": self.components,
        }


def named(*components: dict[str, Any]) -> Draft:
    return Draft(list(components), parameter_format=ParameterFormat.NAMED)


def auth(*components: dict[str, Any]) -> Draft:
    return Draft(list(components), category=TemplateCategory.AUTHENTICATION)
