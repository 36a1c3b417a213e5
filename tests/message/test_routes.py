"""The /v1/messages and /v1/events API: the contract, eligibility, WhatsApp templates,
tenants, roles, filters and pagination."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from herald.audit.models import AuditEntry
from herald.contact.models import ChannelKind, ConsentStatus, Contact
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.models import utcnow
from herald.message.models import Message, MessageEvent
from herald.whatsapp.models import TemplateStatus
from tests.conftest import TenantFixture
from tests.message.helpers import make_channel, make_contact, make_template, phone, send

READ_FIELDS = {"id", "status", "provider_message_id", "error_code", "error_reason", "cost_micros"}


@pytest.fixture
async def sms(client: httpx.AsyncClient, db: Database, tenant: TenantFixture) -> UUID:
    return await make_channel(db, tenant.id)


class TestSend:
    async def test_contract(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        to = phone()
        made = await send(client, tenant, channel_id=sms, to=to, body="Your code is 123456")
        assert made["status"] == "queued"
        assert (made["purpose"], made["direction"]) == ("transactional", "outbound")
        assert (made["to"], made["from"]) == (to, "+12025550100")
        assert (made["encoding"], made["segments"]) == ("GSM-7", 1)
        assert made["cost_micros"] > 0 and made["currency"]
        read = await client.get(f"/v1/messages/{made['id']}", headers=tenant.headers)
        assert read.status_code == 200
        assert read.json().keys() >= READ_FIELDS
        assert read.json()["provider_message_id"] is None
        async with db.tenant_session(tenant.id) as session:
            contact = await session.scalar(select(Contact).where(Contact.phone_e164 == to))
        assert contact is not None and contact.source == "api"
        assert contact.sms_status is ConsentStatus.unknown
        assert made["contact_id"] == str(contact.id)
        events = await client.get(
            "/v1/events", params={"message_id": made["id"]}, headers=tenant.headers
        )
        assert [e["type"] for e in events.json()["items"]] == ["queued"]
        assert events.json()["items"][0]["contact_id"] == str(contact.id)

    async def test_national_number_in_tenant_country_and_known_contact(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        contact_id = await make_contact(db, tenant.id, phone_e164="+14155552671")
        made = await send(client, tenant, channel_id=sms, to="(415) 555-2671", body="Hi")
        assert (made["to"], made["contact_id"]) == ("+14155552671", str(contact_id))
        by_id = await send(client, tenant, channel_id=sms, contact_id=contact_id, body="Hi")
        assert by_id["to"] == "+14155552671"

    async def test_unicode_body_counts_ucs2_segments(
        self, client: httpx.AsyncClient, tenant: TenantFixture, sms: UUID
    ) -> None:
        made = await send(client, tenant, channel_id=sms, to=phone(), body="Привет " * 12)
        assert (made["encoding"], made["segments"]) == ("UCS-2", 2)

    async def test_smart_encoding_sends_gsm_look_alikes(
        self, client: httpx.AsyncClient, tenant: TenantFixture, sms: UUID
    ) -> None:
        smart = {"settings": {"smart_encoding": True}}
        changed = await client.patch("/v1/tenant", json=smart, headers=tenant.headers)
        assert changed.status_code == 200, changed.text
        key = {**tenant.headers, "Idempotency-Key": "smart"}
        body = {"channel_id": sms, "to": phone(), "body": "It\u2019s \u201cready\u201d"}
        made = await send(client, tenant, headers=key, **body)
        assert (made["body"], made["encoding"]) == ('It\'s "ready"', "GSM-7")
        assert (await send(client, tenant, headers=key, **body))["id"] == made["id"]

    @pytest.mark.parametrize(
        ("body", "said"),
        [
            ({"to": "12", "body": "x"}, "to: "),
            ({"to": "+12015550100", "contact_id": str(uuid4())}, "not both"),
            ({"to": "+12015550100"}, "body"),
            ({"to": "+12015550100", "body": "x", "colour": "red"}, "colour"),
            ({"to": "+12015550100", "body": "x" * 1601}, "body"),
        ],
    )
    async def test_bad_requests_say_what_to_fix(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        sms: UUID,
        body: dict[str, Any],
        said: str,
    ) -> None:
        response = await client.post(
            "/v1/messages", json={"channel_id": str(sms), **body}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert said in response.text

    async def test_unknown_channel_and_contact(
        self, client: httpx.AsyncClient, tenant: TenantFixture, sms: UUID
    ) -> None:
        missing = await send(client, tenant, 404, channel_id=uuid4(), to=phone(), body="Hi")
        assert "channel" in missing["detail"]
        await send(client, tenant, 404, channel_id=sms, contact_id=uuid4(), body="Hi")


class TestIdempotency:
    async def test_same_key_same_message(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        key = {**tenant.headers, "Idempotency-Key": "order-42-shipped"}
        body = {"channel_id": sms, "to": phone(), "body": "Shipped"}
        first = await send(client, tenant, headers=key, **body)
        again = await send(client, tenant, headers=key, **body)
        assert again["id"] == first["id"]
        other = await send(client, tenant, 409, headers=key, **{**body, "body": "Lost"})
        assert first["id"] in other["detail"] and "Idempotency-Key" in other["detail"]
        async with db.tenant_session(tenant.id) as session:
            count = await session.scalar(select(func.count()).select_from(Message))
        assert count == 1

    async def test_keys_are_per_tenant(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: UUID,
    ) -> None:
        theirs = await make_channel(db, other_tenant.id)
        key = "same-key"
        mine = await send(
            client,
            tenant,
            headers={**tenant.headers, "Idempotency-Key": key},
            channel_id=sms,
            to=phone(),
            body="Hi",
        )
        other = await send(
            client,
            other_tenant,
            headers={**other_tenant.headers, "Idempotency-Key": key},
            channel_id=theirs,
            to="+447911123456",
            body="Hi",
        )
        assert other["id"] != mine["id"]

    async def test_concurrent_requests_make_one_message(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        headers = {**tenant.headers, "Idempotency-Key": "burst"}
        body = {"channel_id": str(sms), "to": phone(), "body": "Once"}
        responses = await asyncio.gather(
            *(client.post("/v1/messages", json=body, headers=headers) for _ in range(10))
        )
        assert {r.status_code for r in responses} == {202}
        assert len({r.json()["id"] for r in responses}) == 1
        async with db.tenant_session(tenant.id) as session:
            messages = await session.scalar(select(func.count()).select_from(Message))
            events = await session.scalar(select(func.count()).select_from(MessageEvent))
            contacts = await session.scalar(
                select(func.count()).select_from(Contact).where(Contact.phone_e164 == body["to"])
            )
        assert (messages, events, contacts) == (1, 1, 1)


class TestEligibility:
    @pytest.mark.parametrize(
        ("fields", "purpose", "rule"),
        [
            ({"sms_status": ConsentStatus.opted_out}, "transactional", "opted_out"),
            ({"blocked": True}, "transactional", "blocked"),
            ({"erased_at": utcnow(), "phone_e164": None}, "transactional", "erased"),
            ({}, "marketing", "no_consent"),
            (
                {"sms_status": ConsentStatus.opted_in, "last_sent_at": utcnow()},
                "marketing",
                "suppressed",
            ),
        ],
    )
    async def test_refusals_name_the_rule(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        sms: UUID,
        fields: dict[str, Any],
        purpose: str,
        rule: str,
    ) -> None:
        await self._suppress_for_a_week(client, tenant)
        contact_id = await make_contact(db, tenant.id, **fields)
        refused = await send(
            client, tenant, 422, channel_id=sms, contact_id=contact_id, body="Hi", purpose=purpose
        )
        assert refused["rule"] == rule
        assert str(contact_id) in refused["detail"]

    async def test_do_not_contact_refuses_even_transactional(
        self, client: httpx.AsyncClient, tenant: TenantFixture, sms: UUID
    ) -> None:
        to = phone()
        added = await client.post("/v1/dnc", json={"phone": to}, headers=tenant.headers)
        assert added.status_code == 201
        refused = await send(client, tenant, 422, channel_id=sms, to=to, body="Hi")
        assert refused["rule"] == "do_not_contact"

    async def test_an_erased_persons_number_stays_refused(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        to = phone()
        contact_id = await make_contact(db, tenant.id, phone_e164=to)
        erased = await client.delete(
            f"/v1/contacts/{contact_id}", params={"erase": "true"}, headers=tenant.headers
        )
        assert erased.status_code == 204, erased.text
        refused = await send(client, tenant, 422, channel_id=sms, to=to, body="Hi again")
        assert refused["rule"] == "do_not_contact"
        gone = await send(client, tenant, 422, channel_id=sms, contact_id=contact_id, body="Hi")
        assert gone["rule"] == "erased"

    async def test_opted_out_on_sms_only(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        whatsapp = await make_channel(db, tenant.id, ChannelKind.whatsapp)
        contact_id = await make_contact(db, tenant.id, sms_status=ConsentStatus.opted_out)
        refused = await send(client, tenant, 422, channel_id=sms, contact_id=contact_id, body="x")
        assert "opted out of sms" in refused["detail"]
        await send(client, tenant, channel_id=whatsapp, contact_id=contact_id, body="x")

    async def test_transactional_ignores_suppression_and_consent(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        await self._suppress_for_a_week(client, tenant)
        contact_id = await make_contact(db, tenant.id, last_sent_at=utcnow())
        await send(client, tenant, channel_id=sms, contact_id=contact_id, body="Receipt")

    async def test_marketing_with_consent(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        for status in (ConsentStatus.opted_in, ConsentStatus.implied):
            contact_id = await make_contact(db, tenant.id, sms_status=status)
            made = await send(
                client,
                tenant,
                channel_id=sms,
                contact_id=contact_id,
                body="Sale",
                purpose="marketing",
            )
            assert made["purpose"] == "marketing"

    @staticmethod
    async def _suppress_for_a_week(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        rule = {"name": "weekly", "window_days": 7}
        made = await client.post("/v1/suppression-rules", json=rule, headers=tenant.headers)
        assert made.status_code == 201, made.text


class TestWhatsApp:
    @pytest.fixture
    async def channel(self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture) -> UUID:
        return await make_channel(db, tenant.id, ChannelKind.whatsapp)

    async def test_approved_template(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, channel: UUID
    ) -> None:
        await make_template(db, tenant.id, channel)
        template = {"name": "order_ready", "language": "en_US", "parameters": ["Ada", "A-7"]}
        made = await send(client, tenant, channel_id=channel, to=phone(), template=template)
        assert made["body"] is None and made["segments"] is None
        assert {k: made["template"][k] for k in template} == template
        assert made["template"]["components"] == [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-7"}],
            }
        ]
        assert made["cost_micros"] > 0

    @pytest.mark.parametrize(
        "status", [TemplateStatus.DRAFT, TemplateStatus.PENDING, TemplateStatus.REJECTED]
    )
    async def test_template_not_approved(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        channel: UUID,
        status: TemplateStatus,
    ) -> None:
        await make_template(db, tenant.id, channel, status)
        template = {"name": "order_ready", "language": "en_US", "parameters": ["Ada", "A-7"]}
        refused = await send(client, tenant, 422, channel_id=channel, to=phone(), template=template)
        assert str(status) in refused["detail"] and "APPROVED" in refused["detail"]

    async def test_template_of_another_channel_or_missing(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, channel: UUID
    ) -> None:
        elsewhere = await make_channel(db, tenant.id, ChannelKind.whatsapp)
        await make_template(db, tenant.id, elsewhere)
        template = {"name": "order_ready", "language": "en_US", "parameters": ["Ada", "A-7"]}
        refused = await send(client, tenant, 422, channel_id=channel, to=phone(), template=template)
        assert "sync-templates" in refused["detail"]

    async def test_wrong_parameters(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, channel: UUID
    ) -> None:
        await make_template(db, tenant.id, channel)
        template = {"name": "order_ready", "language": "en_US", "parameters": ["Ada"]}
        await send(client, tenant, 422, channel_id=channel, to=phone(), template=template)

    async def test_free_text_is_transactional_only(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, channel: UUID
    ) -> None:
        contact_id = await make_contact(db, tenant.id, whatsapp_status=ConsentStatus.opted_in)
        refused = await send(
            client,
            tenant,
            422,
            channel_id=channel,
            contact_id=contact_id,
            body="Sale",
            purpose="marketing",
        )
        assert "template" in refused["detail"]
        made = await send(client, tenant, channel_id=channel, contact_id=contact_id, body="Hi")
        assert (made["body"], made["encoding"]) == ("Hi", None)

    async def test_template_on_sms_channel(
        self, client: httpx.AsyncClient, tenant: TenantFixture, sms: UUID
    ) -> None:
        template = {"name": "order_ready", "language": "en_US"}
        refused = await send(client, tenant, 422, channel_id=sms, to=phone(), template=template)
        assert "WhatsApp" in refused["detail"]


class TestTenantsAndRoles:
    async def test_other_tenant_sees_nothing(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: UUID,
    ) -> None:
        made = await send(client, tenant, channel_id=sms, to=phone(), body="Hi")
        headers = other_tenant.headers
        assert (await client.get(f"/v1/messages/{made['id']}", headers=headers)).status_code == 404
        for url in ("/v1/messages", "/v1/events"):
            listed = await client.get(url, headers=headers)
            assert listed.status_code == 200 and listed.json()["items"] == []
        events = await client.get("/v1/events", params={"message_id": made["id"]}, headers=headers)
        assert events.json()["items"] == []

    async def test_another_tenants_channel_or_contact_is_not_found(
        self,
        client: httpx.AsyncClient,
        db: Database,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        sms: UUID,
    ) -> None:
        theirs = await make_channel(db, other_tenant.id)
        await send(client, tenant, 404, channel_id=theirs, to=phone(), body="Hi")
        their_contact = await make_contact(db, other_tenant.id)
        await send(client, tenant, 404, channel_id=sms, contact_id=their_contact, body="Hi")

    async def test_roles(self, client: httpx.AsyncClient, tenant: TenantFixture, sms: UUID) -> None:
        viewer = await tenant.key_for(Role.viewer)
        agent = await tenant.key_for(Role.agent)
        body = {"channel_id": sms, "to": phone(), "body": "Hi"}
        await send(client, tenant, 403, headers=viewer, **body)
        made = await send(client, tenant, headers=agent, **body)
        refused = await send(client, tenant, 403, headers=agent, **body, purpose="marketing")
        assert "manager" in refused["detail"]
        for url in (f"/v1/messages/{made['id']}", "/v1/messages", "/v1/events"):
            assert (await client.get(url, headers=viewer)).status_code == 200


class TestLists:
    async def test_filters_and_pages(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        second = await make_channel(db, tenant.id)
        contact_id = await make_contact(db, tenant.id)
        made = [
            await send(client, tenant, channel_id=sms, contact_id=contact_id, body="1"),
            await send(client, tenant, channel_id=sms, to=phone(), body="2"),
            await send(client, tenant, channel_id=second, to=phone(), body="3"),
        ]
        ids = [m["id"] for m in made]

        async def listed(url: str = "/v1/messages", **params: Any) -> list[str]:
            response = await client.get(url, params=params, headers=tenant.headers)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await listed() == ids[::-1]
        assert await listed(channel_id=str(sms)) == ids[1::-1]
        assert await listed(contact_id=str(contact_id)) == ids[:1]
        assert await listed(status="queued", direction="outbound") == ids[::-1]
        assert await listed(status="sent") == []
        assert await listed(campaign_id=str(uuid4())) == []
        assert await listed(since=made[1]["created_at"]) == ids[:0:-1]
        assert await listed(until=made[1]["created_at"]) == ids[:1]

        page = await client.get("/v1/messages", params={"limit": 2}, headers=tenant.headers)
        assert [m["id"] for m in page.json()["items"]] == ids[:0:-1]
        cursor = page.json()["next_cursor"]
        assert await listed(limit=2, cursor=cursor) == ids[:1]

        events = await listed("/v1/events", type="queued")
        assert len(events) == 3
        assert await listed("/v1/events", type="sent") == []
        assert len(await listed("/v1/events", contact_id=str(contact_id))) == 1
        assert len(await listed("/v1/events", limit=2)) == 2

    async def test_bad_filter(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.get(
            "/v1/messages", params={"status": "lost"}, headers=tenant.headers
        )
        assert response.status_code == 422


class TestPersonalData:
    async def test_audit_log_holds_no_body_or_number(
        self, client: httpx.AsyncClient, db: Database, tenant: TenantFixture, sms: UUID
    ) -> None:
        to = phone()
        await send(client, tenant, channel_id=sms, to=to, body="Secret code 987654")
        async with db.tenant_session(tenant.id) as session:
            entries = (await session.scalars(select(AuditEntry))).all()
        dumped = orjson.dumps([(e.action, e.resource_type, e.changes) for e in entries]).decode()
        assert "contact.created" in dumped
        assert "987654" not in dumped and to not in dumped and to[1:] not in dumped
        assert "message" not in {e.resource_type for e in entries} | {
            e.action.split(".")[0] for e in entries
        }


async def test_erasing_a_person_blanks_their_messages(
    client: httpx.AsyncClient, db: Database, tenant: TenantFixture
) -> None:
    channel = await make_channel(db, tenant.id)
    contact = await make_contact(db, tenant.id)
    sent = await send(client, tenant, channel_id=channel, contact_id=contact, body="Hi Ada")
    erased = await client.delete(f"/v1/contacts/{contact}?erase=true", headers=tenant.headers)
    assert erased.status_code == 204
    message = (await client.get(f"/v1/messages/{sent['id']}", headers=tenant.headers)).json()
    assert message["body"] is None
    assert message["to"] is None
