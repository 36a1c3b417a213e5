"""Vonage SMS API send statuses and delivery-receipt statuses, as tables."""

from __future__ import annotations

from herald.providers.base import DeliveryStatus, ErrorKind

SEND_STATUSES: dict[str, ErrorKind] = {
    "1": ErrorKind.retry_later,  # throttled
    "5": ErrorKind.retry_later,  # internal error
    "2": ErrorKind.failed,  # missing parameters
    "3": ErrorKind.failed,  # invalid parameters
    "4": ErrorKind.failed,  # invalid credentials
    "6": ErrorKind.failed,  # invalid message
    "7": ErrorKind.opted_out,  # number barred: on the account's block list (replied STOP)
    "8": ErrorKind.failed,  # partner account barred
    "9": ErrorKind.failed,  # partner quota exceeded (top up)
    "12": ErrorKind.failed,  # message too long
    "14": ErrorKind.failed,  # invalid signature
    "15": ErrorKind.failed,  # invalid sender address
    "22": ErrorKind.failed,  # invalid network code
    "23": ErrorKind.failed,  # invalid callback URL
    "29": ErrorKind.failed,  # non-whitelisted destination
    "33": ErrorKind.failed,  # number de-activated
}

DLR_STATUSES: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.sent,
    "buffered": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "expired": DeliveryStatus.undelivered,
    "unknown": DeliveryStatus.undelivered,
    "failed": DeliveryStatus.failed,
    "rejected": DeliveryStatus.failed,
}

DLR_ERRORS: dict[str, ErrorKind] = {
    "1": ErrorKind.retry_later,  # unknown
    "2": ErrorKind.retry_later,  # absent subscriber, temporary
    "7": ErrorKind.retry_later,  # handset busy
    "8": ErrorKind.retry_later,  # network error
    "99": ErrorKind.retry_later,  # general error
}
"""``err-code`` of a receipt that may succeed later; every other non-zero code is permanent."""
