"""The simulator's native wire format, shared by the simulator (which speaks it) and the
adapter (which calls it): JSON both ways, receipts signed with ``X-Sim-Signature``.

Send: ``POST {base}/native/messages`` with ``Authorization: Bearer <api_key>`` and
``{"to", "from", "body", "reference", "callback_url"}`` → 201 ``{"id", "status",
"segments"}``; errors → ``{"error": {"code", "message"}}`` with 4xx/5xx.
Receipt: ``{"type": "receipt", "id", "message_id", "status", "error_code", "reference",
"timestamp"}``; inbound: ``{"type": "inbound", "id", "from", "to", "body", "timestamp"}``.
"""

from __future__ import annotations

from herald.providers.base import DeliveryStatus, ErrorKind

MESSAGES_PATH = "/native/messages"
ACCOUNT_PATH = "/native/account"

ERRORS: dict[str, ErrorKind] = {
    "rate_limited": ErrorKind.retry_later,
    "unavailable": ErrorKind.retry_later,
    "temporary_failure": ErrorKind.retry_later,
    "opted_out": ErrorKind.opted_out,
    "invalid_number": ErrorKind.failed,
    "blocked": ErrorKind.failed,
    "unreachable": ErrorKind.failed,
}

STATUSES: dict[str, DeliveryStatus] = {status.value: status for status in DeliveryStatus}
