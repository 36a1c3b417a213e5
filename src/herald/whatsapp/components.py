"""Meta's authoring format for template components, as Pydantic models.

The models check shapes and types only, with generous caps that bound the stored JSON. Meta's
rules (exact lengths, parameters, examples, button counts) live in ``herald.whatsapp.checks``,
so that one pass reports every broken rule instead of the first one a parser meets.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

MAX_COMPONENTS = 10
MAX_LIST = 20
Text = Annotated[str, Field(max_length=4096)]
Short = Annotated[str, Field(max_length=512)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HeaderFormat(StrEnum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"
    LOCATION = "LOCATION"


MEDIA_FORMATS = frozenset({HeaderFormat.IMAGE, HeaderFormat.VIDEO, HeaderFormat.DOCUMENT})


class OtpType(StrEnum):
    COPY_CODE = "COPY_CODE"
    ONE_TAP = "ONE_TAP"
    ZERO_TAP = "ZERO_TAP"


class NamedExample(Model):
    param_name: Short
    example: Text


class HeaderExample(Model):
    header_text: list[Text] | None = Field(default=None, max_length=MAX_LIST)
    header_text_named_params: list[NamedExample] | None = Field(default=None, max_length=MAX_LIST)
    header_handle: list[Text] | None = Field(default=None, max_length=MAX_LIST)


class Header(Model):
    type: Literal["HEADER"]
    format: HeaderFormat
    text: Text | None = None
    example: HeaderExample | None = None


class BodyExample(Model):
    body_text: list[Annotated[list[Text], Field(max_length=100)]] | None = Field(
        default=None, max_length=MAX_LIST
    )
    body_text_named_params: list[NamedExample] | None = Field(default=None, max_length=100)


class Body(Model):
    type: Literal["BODY"]
    text: Text | None = None
    example: BodyExample | None = None
    add_security_recommendation: bool | None = None
    """AUTHENTICATION only: Meta appends "For your security, do not share this code."."""


class Footer(Model):
    type: Literal["FOOTER"]
    text: Text | None = None
    code_expiration_minutes: int | None = None
    """AUTHENTICATION only: Meta's fixed footer "This code expires in N minutes."."""


class QuickReplyButton(Model):
    type: Literal["QUICK_REPLY"]
    text: Short


class UrlButton(Model):
    type: Literal["URL"]
    text: Short
    url: Text
    example: list[Text] | None = Field(default=None, max_length=MAX_LIST)


class PhoneNumberButton(Model):
    type: Literal["PHONE_NUMBER"]
    text: Short
    phone_number: Short


class CopyCodeButton(Model):
    """Meta labels it itself ("Copy offer code"); the example is a sample code."""

    type: Literal["COPY_CODE"]
    example: Short


class SupportedApp(Model):
    package_name: Short
    signature_hash: Short


class OtpButton(Model):
    type: Literal["OTP"]
    otp_type: OtpType
    text: Short | None = None
    autofill_text: Short | None = None
    supported_apps: list[SupportedApp] | None = Field(default=None, max_length=MAX_LIST)
    zero_tap_terms_accepted: bool | None = None


Button = Annotated[
    QuickReplyButton | UrlButton | PhoneNumberButton | CopyCodeButton | OtpButton,
    Field(discriminator="type"),
]


class Buttons(Model):
    type: Literal["BUTTONS"]
    buttons: list[Button] = Field(max_length=MAX_LIST)


Component = Annotated[Header | Body | Footer | Buttons, Field(discriminator="type")]

COMPONENT = TypeAdapter[Component](Component)
TAGS = frozenset(
    (
        "HEADER",
        "BODY",
        "FOOTER",
        "BUTTONS",
        "QUICK_REPLY",
        "URL",
        "PHONE_NUMBER",
        "COPY_CODE",
        "OTP",
    )
)


def json_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    """``components[1]`` + ``("BUTTONS", "buttons", 2, "URL", "text")`` →
    ``components[1].buttons[2].text`` (the union tags Pydantic inserts are dropped)."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in TAGS:
            path += f".{part}"
    return path


def parse_component(raw: Any, path: str) -> tuple[Component | None, list[tuple[str, str]]]:
    """The component, or ``None`` and every shape error as ``(path, message)``."""
    try:
        return COMPONENT.validate_python(raw), []
    except ValidationError as exc:
        return None, [(json_path(path, tuple(e["loc"])), e["msg"]) for e in exc.errors()]


def dump(component: Component) -> dict[str, Any]:
    """Meta's authoring JSON for one component (unset optional fields left out)."""
    return component.model_dump(mode="json", exclude_none=True)
