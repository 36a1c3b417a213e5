"""WhatsApp Cloud API (Graph) error codes and message statuses, as tables."""

from __future__ import annotations

from herald.providers.base import DeliveryStatus, ErrorKind

ERRORS: dict[int, ErrorKind] = {
    4: ErrorKind.retry_later,  # application request limit
    80007: ErrorKind.retry_later,  # WABA rate limit
    130429: ErrorKind.retry_later,  # throughput per number exceeded
    131000: ErrorKind.retry_later,  # something went wrong
    131016: ErrorKind.retry_later,  # service unavailable
    131048: ErrorKind.retry_later,  # spam rate limit
    131056: ErrorKind.retry_later,  # pair rate: too many to the same user
    131057: ErrorKind.retry_later,  # account in maintenance (number upgrading)
    131050: ErrorKind.opted_out,  # user stopped marketing messages
    190: ErrorKind.failed,  # access token expired or invalid
    368: ErrorKind.failed,  # temporarily blocked for policy violations
    131008: ErrorKind.failed,  # required parameter missing
    131009: ErrorKind.failed,  # parameter value invalid
    131021: ErrorKind.failed,  # recipient cannot be the sender
    131026: ErrorKind.failed,  # undeliverable (not on WhatsApp, old app…)
    131030: ErrorKind.failed,  # recipient not in the test allow-list
    131031: ErrorKind.failed,  # account locked
    131042: ErrorKind.failed,  # payment problem
    131047: ErrorKind.failed,  # outside the 24-hour window: send a template
    131049: ErrorKind.failed,  # per-user marketing limit (Meta: do not retry at once)
    131051: ErrorKind.failed,  # unsupported message type
    132000: ErrorKind.failed,  # template parameter count mismatch
    132001: ErrorKind.failed,  # template does not exist
    132005: ErrorKind.failed,  # template text too long once filled
    132007: ErrorKind.failed,  # template format policy violation
    132012: ErrorKind.failed,  # template parameter format mismatch
    132015: ErrorKind.failed,  # template paused
    132016: ErrorKind.failed,  # template disabled
    133010: ErrorKind.failed,  # phone number not registered
}

STATUSES: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.queued,
    "held_for_quality_assessment": DeliveryStatus.queued,
    "sent": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "read": DeliveryStatus.read,
    "failed": DeliveryStatus.failed,
}


def error_kind(code: int | None) -> ErrorKind:
    return ERRORS.get(code, ErrorKind.failed) if code is not None else ErrorKind.failed
