"""The /v1/whatsapp-templates API: CRUD, edit rules, dry runs, rendering, manual status
changes, other tenants (404) and lesser roles (403)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from herald.contact.models import ChannelKind
from herald.kit.context import Role
from herald.whatsapp import service
from herald.whatsapp.lifecycle import transition
from herald.whatsapp.models import (
    ParameterFormat,
    QualityRating,
    TemplateCategory,
    TemplateStatus,
    WhatsAppTemplate,
)
from tests.conftest import TenantFixture
from tests.message.helpers import make_channel
from tests.whatsapp.helpers import ORDER_BODY, Draft, body, buttons, footer, url_button

URL = "/v1/whatsapp-templates"
Json = dict[str, Any]


async def create(client: httpx.AsyncClient, tenant: TenantFixture, **changes: Any) -> Json:
    response = await client.post(URL, json={**Draft().body(), **changes}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: Json = response.json()
    return data


async def move(client: httpx.AsyncClient, tenant: TenantFixture, tid: str, *statuses: str) -> Json:
    """Meta's review, reported as a sync reports it (no person can approve a template)."""
    async with tenant.db.tenant_session(tenant.id) as session:
        template = await service.get_template(session, tenant.id, UUID(tid), for_update=True)
        for status in statuses:
            transition(template, TemplateStatus(status), reason="ops", source="sync")
    response = await client.get(f"{URL}/{tid}", headers=tenant.headers)
    data: Json = response.json()
    return data


class TestCrud:
    async def test_create_read_update_delete(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        assert (made["status"], made["quality_rating"], made["status_history"]) == (
            "DRAFT",
            "UNKNOWN",
            [],
        )
        assert made["components"] == [ORDER_BODY]
        one = f"{URL}/{made['id']}"
        assert (await client.get(one, headers=tenant.headers)).json()["name"] == "order_ready"
        changed = await client.patch(
            one,
            json={"name": "order_shipped", "components": [ORDER_BODY, footer()]},
            headers=tenant.headers,
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["name"], changed.json()["status"]) == ("order_shipped", "DRAFT")
        assert len(changed.json()["components"]) == 2
        assert (await client.delete(one, headers=tenant.headers)).status_code == 204
        assert (await client.get(one, headers=tenant.headers)).status_code == 404

    async def test_invalid_template_lists_every_problem(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        bad = [body("{{1}} and {{3}}", ["a"]), footer("x" * 61)]
        response = await client.post(
            URL,
            json={**Draft().body(), "name": "Bad Name", "components": bad},
            headers=tenant.headers,
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [
            "name",
            "components[0].text",
            "components[0].text",
            "components[0].example.body_text",
            "components[1].text",
        ]
        made = await create(client, tenant)
        response = await client.patch(
            f"{URL}/{made['id']}", json={"components": bad}, headers=tenant.headers
        )
        assert response.status_code == 422

    async def test_unknown_field(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.post(
            URL, json={**Draft().body(), "colour": 1}, headers=tenant.headers
        )
        assert response.status_code == 422

    async def test_identity_is_unique_per_channel(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        first = await create(client, tenant)
        response = await client.post(URL, json=Draft().body(), headers=tenant.headers)
        assert response.status_code == 409
        assert response.json()["existing_id"] == first["id"]
        await create(client, tenant, language="pt_BR")
        await create(client, tenant, channel_id=str(await make_channel(tenant.db, tenant.id)))

    async def test_the_channel_must_be_the_tenants_own(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        theirs = await make_channel(other_tenant.db, other_tenant.id, ChannelKind.whatsapp)
        for channel_id in (theirs, uuid4()):
            body = {**Draft().body(), "channel_id": str(channel_id)}
            response = await client.post(URL, json=body, headers=tenant.headers)
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "channel_id"

    async def test_database_treats_no_channel_as_one_value(self, tenant: TenantFixture) -> None:
        def row() -> WhatsAppTemplate:
            return WhatsAppTemplate(
                tenant_id=tenant.id,
                name="twin",
                language="en",
                category=TemplateCategory.UTILITY,
                parameter_format=ParameterFormat.POSITIONAL,
                components=[ORDER_BODY],
                status=TemplateStatus.DRAFT,
                quality_rating=QualityRating.UNKNOWN,
                status_history=[],
            )

        with pytest.raises(IntegrityError):
            async with tenant.db.tenant_session(tenant.id) as session:
                session.add_all([row(), row()])
                await session.flush()

    async def test_list_filters_and_pages(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        channel = str(await make_channel(tenant.db, tenant.id, ChannelKind.whatsapp))
        a = await create(client, tenant, name="a_one")
        b = await create(client, tenant, name="b_two", category="UTILITY", channel_id=channel)
        c = await create(client, tenant, name="c_three", language="de")
        await create(client, other_tenant, name="a_one")
        await move(client, tenant, a["id"], "PENDING")

        async def ids(query: str) -> list[str]:
            response = await client.get(f"{URL}?{query}", headers=tenant.headers)
            assert response.status_code == 200, response.text
            return [t["id"] for t in response.json()["items"]]

        assert await ids("") == [c["id"], b["id"], a["id"]]
        assert await ids("status=PENDING") == [a["id"]]
        assert await ids("category=UTILITY") == [b["id"]]
        assert await ids("language=de") == [c["id"]]
        assert await ids("name=b_two") == [b["id"]]
        assert await ids(f"channel_id={channel}") == [b["id"]]
        first = (await client.get(f"{URL}?limit=2", headers=tenant.headers)).json()
        assert [t["id"] for t in first["items"]] == [c["id"], b["id"]]
        assert await ids(f"limit=2&cursor={first['next_cursor']}") == [a["id"]]
        assert (await client.get(f"{URL}?status=LOST", headers=tenant.headers)).status_code == 422


class TestEditRules:
    async def test_editing_an_approved_template_sends_it_back_to_review(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        await move(client, tenant, made["id"], "PENDING", "APPROVED")
        response = await client.patch(
            f"{URL}/{made['id']}",
            json={"components": [ORDER_BODY, footer()]},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "PENDING"
        last = response.json()["status_history"][-1]
        assert (last["from"], last["to"], last["reason"]) == ("APPROVED", "PENDING", "edited")

    @pytest.mark.parametrize(
        ("change", "fragment"),
        [
            ({"name": "renamed"}, "name cannot change"),
            ({"language": "fr"}, "language cannot change"),
            ({"category": "UTILITY"}, "category of an APPROVED"),
        ],
    )
    async def test_submitted_identity_is_fixed(
        self, client: httpx.AsyncClient, tenant: TenantFixture, change: Json, fragment: str
    ) -> None:
        made = await create(client, tenant)
        await move(client, tenant, made["id"], "PENDING", "APPROVED")
        response = await client.patch(f"{URL}/{made['id']}", json=change, headers=tenant.headers)
        assert response.status_code == 409
        assert fragment in response.json()["detail"]

    async def test_rejected_category_can_change(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        await move(client, tenant, made["id"], "PENDING", "REJECTED")
        response = await client.patch(
            f"{URL}/{made['id']}", json={"category": "UTILITY"}, headers=tenant.headers
        )
        assert (response.status_code, response.json()["status"]) == (200, "PENDING")

    async def test_pending_cannot_be_edited(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        await move(client, tenant, made["id"], "PENDING")
        response = await client.patch(
            f"{URL}/{made['id']}",
            json={"components": [ORDER_BODY, footer()]},
            headers=tenant.headers,
        )
        assert response.status_code == 409
        assert "PENDING template cannot be edited" in response.json()["detail"]

    async def test_only_unsubmitted_templates_are_deleted(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        approved = await create(client, tenant)
        await move(client, tenant, approved["id"], "PENDING", "APPROVED")
        response = await client.delete(f"{URL}/{approved['id']}", headers=tenant.headers)
        assert response.status_code == 409
        assert "delete it there" in response.json()["detail"]
        rejected = await create(client, tenant, name="other")
        await move(client, tenant, rejected["id"], "PENDING", "REJECTED")
        assert (
            await client.delete(f"{URL}/{rejected['id']}", headers=tenant.headers)
        ).status_code == 204


class TestActions:
    async def test_validate_dry_run(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        made = await create(client, tenant)
        url = f"{URL}/{made['id']}/validate"
        assert (await client.post(url, headers=tenant.headers)).json() == {
            "valid": True,
            "problems": [],
        }
        bad = {"components": [ORDER_BODY, buttons(url_button(example=None))]}
        result = (await client.post(url, json=bad, headers=tenant.headers)).json()
        assert result["valid"] is False
        assert [p["field"] for p in result["problems"]] == ["components[1].buttons[0].example"]
        stored = (await client.get(f"{URL}/{made['id']}", headers=tenant.headers)).json()
        assert stored["components"] == [ORDER_BODY]

    async def test_render(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        made = await create(client, tenant)
        url = f"{URL}/{made['id']}/render"
        viewer = await tenant.key_for(Role.viewer)
        values = {"body": ["Ada", "A-17"]}
        parameters = [{"type": "text", "text": "Ada"}, {"type": "text", "text": "A-17"}]
        response = await client.post(url, json={"values": values}, headers=viewer)
        assert response.json() == {
            "components": [{"type": "body", "parameters": parameters}],
            "message": None,
        }
        response = await client.post(
            url, json={"values": values, "to": "+15551234567"}, headers=viewer
        )
        assert response.json()["message"]["template"]["name"] == "order_ready"
        response = await client.post(url, json={"values": {"body": ["Ada"]}}, headers=viewer)
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "values.body", "message": "the body takes 2 value(s), in order; got 1"}
        ]

    async def test_manual_status(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        made = await create(client, tenant)
        moved = await move(client, tenant, made["id"], "PENDING", "REJECTED")
        assert (moved["status"], moved["rejection_reason"]) == ("REJECTED", "ops")
        assert moved["submitted_at"] is not None
        response = await client.post(
            f"{URL}/{made['id']}/status", json={"status": "PAUSED"}, headers=tenant.headers
        )
        assert response.status_code == 409
        assert response.json()["allowed"] == ["DELETED", "IN_APPEAL", "PENDING"]

    @pytest.mark.parametrize("decision", ["PENDING", "APPROVED", "REJECTED", "IN_APPEAL"])
    async def test_review_outcomes_are_metas_alone(
        self, client: httpx.AsyncClient, tenant: TenantFixture, decision: str
    ) -> None:
        made = await create(client, tenant)
        await move(client, tenant, made["id"], "PENDING")
        response = await client.post(
            f"{URL}/{made['id']}/status", json={"status": decision}, headers=tenant.headers
        )
        assert response.status_code == 422
        assert "Meta" in response.json()["detail"]

    async def test_a_person_can_take_a_template_out_of_use(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        await move(client, tenant, made["id"], "PENDING", "APPROVED")
        response = await client.post(
            f"{URL}/{made['id']}/status", json={"status": "PAUSED"}, headers=tenant.headers
        )
        assert (response.status_code, response.json()["status"]) == (200, "PAUSED")

    async def test_names_with_a_trailing_line_break_are_refused(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        body = {**Draft().body(), "name": "sale\n", "language": "en_US\n"}
        response = await client.post(URL, json=body, headers=tenant.headers)
        assert response.status_code == 422


def routes(tid: str) -> list[tuple[str, str, Json | None]]:
    return [
        ("GET", f"{URL}/{tid}", None),
        ("PATCH", f"{URL}/{tid}", {"name": "x_y"}),
        ("DELETE", f"{URL}/{tid}", None),
        ("POST", f"{URL}/{tid}/validate", {}),
        ("POST", f"{URL}/{tid}/render", {"values": {"body": ["a", "b"]}}),
        ("POST", f"{URL}/{tid}/status", {"status": "PENDING"}),
    ]


class TestAccess:
    async def test_other_tenant_sees_nothing(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        for method, url, json in routes(made["id"]):
            response = await client.request(method, url, json=json, headers=other_tenant.headers)
            assert response.status_code == 404, (method, url)
        listed = await client.get(URL, headers=other_tenant.headers)
        assert listed.json()["items"] == []

    async def test_agent_cannot_write(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        agent = await tenant.key_for(Role.agent)
        assert (await client.post(URL, json=Draft().body(), headers=agent)).status_code == 403
        for method, url, json in routes(made["id"])[1:3]:
            assert (await client.request(method, url, json=json, headers=agent)).status_code == 403
        for method, url, json in routes(made["id"])[3:5]:
            assert (await client.request(method, url, json=json, headers=agent)).status_code == 200

    async def test_manager_cannot_change_status(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        manager = await tenant.key_for(Role.manager)
        response = await client.post(
            f"{URL}/{made['id']}/status", json={"status": "PENDING"}, headers=manager
        )
        assert response.status_code == 403

    async def test_viewer_reads(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        made = await create(client, tenant)
        viewer = await tenant.key_for(Role.viewer)
        assert (await client.get(URL, headers=viewer)).json()["items"][0]["id"] == made["id"]
        assert (await client.get(f"{URL}/{made['id']}", headers=viewer)).status_code == 200


class TestEditQuota:
    async def test_one_edit_of_an_approved_template_a_day(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        one = f"{URL}/{made['id']}"
        await move(client, tenant, made["id"], "PENDING", "APPROVED")
        edit = {"components": [ORDER_BODY, footer()]}
        assert (await client.patch(one, json=edit, headers=tenant.headers)).status_code == 200
        await move(client, tenant, made["id"], "APPROVED")
        response = await client.patch(
            one, json={"components": [ORDER_BODY]}, headers=tenant.headers
        )
        assert response.status_code == 409
        assert "1 edit(s) of an approved template per 1 day(s)" in response.json()["detail"]
        await move(client, tenant, made["id"], "PAUSED")
        response = await client.patch(
            one, json={"components": [ORDER_BODY]}, headers=tenant.headers
        )
        assert response.status_code == 200

    async def test_ten_edits_in_thirty_days(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        made = await create(client, tenant)
        await move(client, tenant, made["id"], "PENDING", "APPROVED")
        now = datetime.now(UTC)
        history = [
            {"from": "APPROVED", "to": "PENDING", "reason": "edited", "source": "api"}
            | {"at": (now - timedelta(days=2 + day)).isoformat()}
            for day in range(10)
        ]
        async with tenant.db.tenant_session(tenant.id) as session:
            await session.execute(
                update(WhatsAppTemplate)
                .where(WhatsAppTemplate.id == UUID(made["id"]))
                .values(status_history=history)
            )
        response = await client.patch(
            f"{URL}/{made['id']}",
            json={"components": [ORDER_BODY, footer()]},
            headers=tenant.headers,
        )
        assert response.status_code == 409
        assert "per 30 day(s)" in response.json()["detail"]
