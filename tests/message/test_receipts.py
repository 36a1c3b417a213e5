"""The status rules of ``herald.message.receipts``, applied directly to a batch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.models import MessageStatus
from herald.message.receipts import ChannelReceipt, advances, apply_receipts, status_url
from herald.providers.base import DeliveryStatus, Receipt
from tests.conftest import TenantFixture
from tests.hook.helpers import make_channel, make_message, reload_message

S = MessageStatus


@pytest.mark.parametrize(
    ("old", "new", "moves"),
    [
        (S.sent, S.delivered, True),
        (S.sent, S.read, True),
        (S.delivered, S.sent, False),
        (S.read, S.delivered, False),
        (S.unknown, S.sent, True),
        (S.sent, S.undelivered, True),
        (S.unknown, S.failed, True),
        (S.delivered, S.failed, False),
        (S.failed, S.delivered, False),
        (S.undelivered, S.read, False),
    ],
)
def test_a_message_only_moves_forward(old: S, new: S, moves: bool) -> None:
    assert advances(old, new) is moves


def test_each_provider_gets_its_status_url() -> None:
    channel_id = UUID("018f0000-0000-7000-8000-000000000001")

    assert status_url("http://h:1/", "twilio", channel_id) == (
        f"http://h:1/v1/hooks/twilio/{channel_id}/status"
    )
    assert status_url("http://h:1", "simulator", channel_id) == (
        f"http://h:1/v1/hooks/simulator/{channel_id}"
    )
    assert status_url("http://h:1", "mitto", channel_id) is None


def _receipt(provider_id: str, status: DeliveryStatus, **fields: Any) -> Receipt:
    return Receipt(
        provider_message_id=provider_id,
        status=status,
        provider_status=status.value,
        event_id=f"{provider_id}:{status.value}",
        **fields,
    )


async def test_a_batch_applies_one_update_per_message_and_parks_the_unknown(
    db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    first = await make_message(db, channel, provider_id="p-1")
    second = await make_message(db, channel, provider_id="p-2")
    failed_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    batch = [
        _receipt("p-1", DeliveryStatus.delivered),
        _receipt("p-1", DeliveryStatus.delivered),
        _receipt("p-2", DeliveryStatus.failed, error_code="30007", occurred_at=failed_at),
        _receipt("p-3", DeliveryStatus.delivered),
    ]

    async with db.system_session() as session:
        applied = await apply_receipts(
            session, [ChannelReceipt(tenant.id, channel.id, r) for r in batch], utcnow()
        )

    assert applied.parked == frozenset({3}) and applied.changed == 2
    assert (await reload_message(db, first.id)).status is S.delivered
    ended = await reload_message(db, second.id)
    assert ended.status is S.failed and ended.error_code == "30007"
    assert ended.failed_at == failed_at and ended.error_reason == "failed"


async def test_a_providers_queued_is_herald_sent(db: Database, tenant: TenantFixture) -> None:
    channel = await make_channel(db, tenant.id, "simulator")
    message = await make_message(db, channel, status=S.unknown, provider_id="p-q")

    async with db.system_session() as session:
        await apply_receipts(
            session,
            [ChannelReceipt(tenant.id, channel.id, _receipt("p-q", DeliveryStatus.queued))],
            utcnow(),
        )

    assert (await reload_message(db, message.id)).status is S.sent
