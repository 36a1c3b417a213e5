"""Twilio webhooks: the ``X-Twilio-Signature`` check and status-callback / inbound parsing.

The signature is base64 HMAC (SHA-1 by default; SHA-256 when a shared key says so in
``X-Twilio-Webhooks-Signature-Settings``) over the URL Twilio called followed by every POST
parameter name and value, names sorted and each name's values sorted. Twilio is inconsistent
about an explicit default port, so both forms are tried; a JSON body is covered by a
``bodySHA256`` query parameter and only the URL is signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit, urlunsplit

from herald.providers.base import Inbound, Media, Receipt, WebhookEvent
from herald.providers.signing import form_pairs, header, is_form
from herald.providers.twilio.errors import STATUSES, error_kind

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
ALGORITHMS = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}
DEFAULT_PORTS = {"https": 443, "http": 80}


def signature(
    token: str, url: str, params: Iterable[tuple[str, str]], algorithm: str = "HMAC_SHA1"
) -> str:
    """The signature Twilio sends for a request to ``url`` with form ``params``."""
    values: dict[str, set[str]] = defaultdict(set)
    for name, value in params:
        values[name].add(value)
    payload = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(token.encode(), payload.encode(), ALGORITHMS[algorithm]).digest()
    return base64.b64encode(digest).decode()


def verify(token: str, url: str, headers: Mapping[str, str], raw_body: bytes) -> bool:
    """Whether the request to ``url`` (the public URL configured at Twilio) is Twilio's."""
    given = header(headers, SIGNATURE_HEADER)
    algorithm = _algorithm(header(headers, SETTINGS_HEADER))
    if not given or algorithm is None:
        return False
    body_hash = parse_qs(urlsplit(url).query).get("bodySHA256") if "bodySHA256=" in url else None
    if body_hash:
        if not hmac.compare_digest(hashlib.sha256(raw_body).hexdigest(), body_hash[0]):
            return False
        params: list[tuple[str, str]] = []
    else:
        params = form_pairs(raw_body) if is_form(header(headers, "Content-Type") or "") else []
    return any(
        hmac.compare_digest(signature(token, candidate, params, algorithm).encode(), given.encode())
        for candidate in _port_variants(url)
    )


def _algorithm(settings: str | None) -> str | None:
    """The algorithm a signature-settings header names; none means the legacy HMAC-SHA1."""
    for part in (settings or "").split(","):
        name, _, value = part.partition("=")
        if name.strip() == "algorithm" and value.strip():
            wanted = value.strip().upper()
            return wanted if wanted in ALGORITHMS else None
    return "HMAC_SHA1"


def _port_variants(url: str) -> Iterator[str]:
    """``url`` as configured, then the same without its port or with the scheme's default one
    (Twilio may have signed either); the second is only built when the first does not match."""
    yield url
    parts = urlsplit(url)
    if parts.port:
        yield urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))
    else:
        port = DEFAULT_PORTS.get(parts.scheme, 80)
        yield urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def parse(raw_body: bytes, content_type: str) -> list[WebhookEvent]:
    """A status callback (has ``MessageStatus``) or an inbound message; else nothing."""
    if not is_form(content_type):
        return []
    form: dict[str, str] = {}
    for name, value in form_pairs(raw_body):
        form.setdefault(name, value)
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid:
        return []
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if status in STATUSES:
        return [_receipt(sid, status, form)]
    if status in ("received", "receiving") or "Body" in form or "NumMedia" in form:
        return [_inbound(sid, form)]
    return []


def _receipt(sid: str, status: str, form: Mapping[str, str]) -> Receipt:
    code = form.get("ErrorCode") or None
    return Receipt(
        provider_message_id=sid,
        status=STATUSES[status],
        provider_status=status,
        event_id=f"{sid}:{status}",
        error_code=code,
        error_reason=form.get("ErrorMessage") or None,
        error_kind=error_kind(code) if status in ("failed", "undelivered") or code else None,
        occurred_at=_dlr_done(form.get("RawDlrDoneDate")),
    )


def _dlr_done(value: str | None) -> datetime | None:
    """``RawDlrDoneDate`` (YYMMDDhhmm, carriers report UTC); ``None`` when absent or odd."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def _inbound(sid: str, form: Mapping[str, str]) -> Inbound:
    count = int(form.get("NumMedia") or 0) if (form.get("NumMedia") or "0").isdigit() else 0
    media = tuple(
        Media(content_type=form.get(f"MediaContentType{i}"), url=form[f"MediaUrl{i}"])
        for i in range(count)
        if f"MediaUrl{i}" in form
    )
    return Inbound(
        provider_message_id=sid,
        sender=_address(form.get("From", "")),
        to=_address(form.get("To", "")),
        body=form.get("Body"),
        event_id=sid,
        media=media,
        profile_name=form.get("ProfileName") or None,
        opt_out_type=form.get("OptOutType") or None,
    )


def _address(value: str) -> str:
    """``whatsapp:+1555…`` → ``+1555…``: the medium is the channel's, not the address's."""
    return value.removeprefix("whatsapp:")
