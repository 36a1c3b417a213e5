"""Twilio error codes and statuses, as tables (see the provider reference)."""

from __future__ import annotations

from herald.providers.base import DeliveryStatus, ErrorKind

ERRORS: dict[int, ErrorKind] = {
    20429: ErrorKind.retry_later,  # too many requests
    30022: ErrorKind.retry_later,  # 10DLC throughput exceeded
    30003: ErrorKind.retry_later,  # handset unreachable
    30008: ErrorKind.retry_later,  # unknown error
    30001: ErrorKind.retry_later,  # queue overflow
    21610: ErrorKind.opted_out,  # recipient replied STOP
    21211: ErrorKind.failed,  # invalid To number
    21212: ErrorKind.failed,  # invalid From number
    21408: ErrorKind.failed,  # region not enabled
    21612: ErrorKind.failed,  # To not reachable from this From
    21614: ErrorKind.failed,  # To is not a mobile number
    21617: ErrorKind.failed,  # body too long
    20003: ErrorKind.failed,  # authentication failed
    30002: ErrorKind.failed,  # account suspended
    30004: ErrorKind.failed,  # message blocked
    30005: ErrorKind.failed,  # unknown destination handset
    30006: ErrorKind.failed,  # landline or unreachable carrier
    30007: ErrorKind.failed,  # filtered as spam
    30034: ErrorKind.failed,  # unregistered 10DLC number
    30036: ErrorKind.failed,  # validity period expired
    63016: ErrorKind.failed,  # WhatsApp: free text outside the 24-hour window
}

STATUSES: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.queued,
    "scheduled": DeliveryStatus.queued,
    "queued": DeliveryStatus.queued,
    "sending": DeliveryStatus.queued,
    "sent": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "read": DeliveryStatus.read,
    "undelivered": DeliveryStatus.undelivered,
    "partially_delivered": DeliveryStatus.undelivered,
    "failed": DeliveryStatus.failed,
    "canceled": DeliveryStatus.failed,
}


def error_kind(code: object) -> ErrorKind | None:
    """How to treat Twilio error ``code`` (int or digits); unknown codes are permanent."""
    text = str(code) if code is not None else ""
    if text in ("", "0"):
        return None
    return ERRORS.get(int(text), ErrorKind.failed) if text.isdigit() else ErrorKind.failed
