"""Routes of contacts (``/v1/contacts``), the do-not-contact list (``/v1/dnc``) and suppression
rules (``/v1/suppression-rules``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from herald.auth.dependencies import Manager, Viewer
from herald.contact import service
from herald.contact.fields import TAG_MAX_LENGTH
from herald.contact.models import ConsentStatus, DncReason
from herald.contact.schemas import (
    BulkTags,
    BulkTagsResult,
    ConsentChange,
    ConsentEventRead,
    ContactCreate,
    ContactExport,
    ContactFilter,
    ContactRead,
    ContactUpdate,
    Country,
    DncBulk,
    DncBulkRemove,
    DncBulkRemoveResult,
    DncBulkResult,
    DncCreate,
    DncRead,
    SortField,
    SortOrder,
    SuppressionRuleCreate,
    SuppressionRuleRead,
    SuppressionRuleUpdate,
)
from herald.hook import service as hooks
from herald.imports import service as imports
from herald.inbox import service as inbox
from herald.kit.context import Role
from herald.kit.errors import Forbidden
from herald.kit.pagination import Page, PageParams, page_params
from herald.message import service as messages

contacts = APIRouter(prefix="/v1/contacts", tags=["contacts"])
dnc = APIRouter(prefix="/v1/dnc", tags=["do not contact"])
suppression_rules = APIRouter(prefix="/v1/suppression-rules", tags=["suppression rules"])

Pages = Annotated[PageParams, Depends(page_params)]


async def contact_filter(
    tag: Annotated[str | None, Query(max_length=TAG_MAX_LENGTH)] = None,
    sms_status: ConsentStatus | None = None,
    whatsapp_status: ConsentStatus | None = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> ContactFilter:
    try:
        return ContactFilter(
            tag=tag,
            sms_status=sms_status,
            whatsapp_status=whatsapp_status,
            source=source,
            created_after=created_after,
            created_before=created_before,
            q=q,
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


@contacts.get("", response_model=Page[ContactRead], summary="List contacts")
async def list_contacts(
    auth: Viewer,
    params: Pages,
    where: Annotated[ContactFilter, Depends(contact_filter)],
    sort: SortField = SortField.created_at,
    order: SortOrder = SortOrder.desc,
) -> Page[ContactRead]:
    return await service.list_contacts(auth.session, auth.tenant_id, where, sort, order, params)


@contacts.post(
    "", response_model=ContactRead, status_code=status.HTTP_201_CREATED, summary="Add a contact"
)
async def create_contact(data: ContactCreate, auth: Manager) -> ContactRead:
    return await service.create_contact(auth.session, auth.tenant_id, data, auth.actor)


@contacts.post("/bulk/tags", response_model=BulkTagsResult, summary="Add or remove tags in bulk")
async def bulk_tags(data: BulkTags, auth: Manager) -> BulkTagsResult:
    return await service.bulk_tags(auth.session, auth.tenant_id, data)


@contacts.get("/{contact_id}", response_model=ContactRead, summary="One contact")
async def read_contact(contact_id: UUID, auth: Viewer) -> ContactRead:
    return await service.read_contact(auth.session, auth.tenant_id, contact_id)


@contacts.patch("/{contact_id}", response_model=ContactRead, summary="Change a contact")
async def update_contact(contact_id: UUID, data: ContactUpdate, auth: Manager) -> ContactRead:
    return await service.update_contact(auth.session, auth.tenant_id, contact_id, data, auth.actor)


@contacts.delete(
    "/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a contact, or erase the person's data (erase=true, admin)",
)
async def delete_contact(
    contact_id: UUID,
    auth: Manager,
    erase: Annotated[
        bool, Query(description="Forget the person, keep an anonymous row (admin).")
    ] = False,
) -> Response:
    if erase:
        if not auth.role.at_least(Role.admin):
            raise Forbidden(
                f"Erasing a person's data needs the admin role or higher; you are {auth.role}."
            )
        erased = await service.erase_contact(auth.session, auth.tenant_id, contact_id, auth.actor)
        await messages.erase_contact_messages(auth.session, auth.tenant_id, contact_id)
        await inbox.erase_contact_inbox(auth.session, auth.tenant_id, contact_id)
        await hooks.forget_number(auth.session, auth.tenant_id, erased.phone_e164)
        await imports.forget_person(auth.session, auth.tenant_id, erased)
    else:
        await service.delete_contact(auth.session, auth.tenant_id, contact_id, auth.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@contacts.post(
    "/{contact_id}/consent",
    response_model=ConsentEventRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record a consent change (with its proof)",
)
async def change_consent(contact_id: UUID, data: ConsentChange, auth: Manager) -> ConsentEventRead:
    return await service.change_consent(auth.session, auth.tenant_id, contact_id, data, auth.actor)


@contacts.get(
    "/{contact_id}/consent",
    response_model=list[ConsentEventRead],
    summary="The consent history, newest first",
)
async def consent_history(contact_id: UUID, auth: Viewer) -> list[ConsentEventRead]:
    return await service.consent_history(auth.session, auth.tenant_id, contact_id)


@contacts.get(
    "/{contact_id}/export",
    response_model=ContactExport,
    summary="Everything held on this person (download)",
)
async def export_contact(contact_id: UUID, auth: Viewer) -> Response:
    export = await service.export_contact(auth.session, auth.tenant_id, contact_id)
    return Response(
        export.model_dump_json(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'},
    )


@dnc.get("", response_model=Page[DncRead], summary="The do-not-contact list")
async def list_dnc(auth: Viewer, params: Pages, reason: DncReason | None = None) -> Page[DncRead]:
    return await service.list_dnc(auth.session, auth.tenant_id, reason, params)


@dnc.post("", response_model=DncRead, status_code=status.HTTP_201_CREATED, summary="Block a number")
async def add_dnc(data: DncCreate, auth: Manager) -> DncRead:
    return await service.add_dnc(auth.session, auth.tenant_id, data, auth.actor)


@dnc.post("/bulk", response_model=DncBulkResult, summary="Block many numbers")
async def add_dnc_bulk(data: DncBulk, auth: Manager) -> DncBulkResult:
    return await service.add_dnc_bulk(auth.session, auth.tenant_id, data, auth.actor)


@dnc.post("/bulk-remove", response_model=DncBulkRemoveResult, summary="Unblock many numbers")
async def remove_dnc_bulk(data: DncBulkRemove, auth: Manager) -> DncBulkRemoveResult:
    return await service.remove_dnc_bulk(auth.session, auth.tenant_id, data)


@dnc.delete("/{phone}", status_code=status.HTTP_204_NO_CONTENT, summary="Unblock a number")
async def remove_dnc(phone: str, auth: Manager, country: Country | None = None) -> Response:
    await service.remove_dnc(auth.session, auth.tenant_id, phone, country)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@suppression_rules.get("", response_model=Page[SuppressionRuleRead], summary="List rules")
async def list_rules(auth: Viewer, params: Pages) -> Page[SuppressionRuleRead]:
    return await service.list_rules(auth.session, auth.tenant_id, params)


@suppression_rules.post(
    "",
    response_model=SuppressionRuleRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a rule",
)
async def create_rule(data: SuppressionRuleCreate, auth: Manager) -> SuppressionRuleRead:
    return await service.create_rule(auth.session, auth.tenant_id, data)


@suppression_rules.get("/{rule_id}", response_model=SuppressionRuleRead, summary="One rule")
async def read_rule(rule_id: UUID, auth: Viewer) -> SuppressionRuleRead:
    return await service.read_rule(auth.session, auth.tenant_id, rule_id)


@suppression_rules.patch("/{rule_id}", response_model=SuppressionRuleRead, summary="Change")
async def update_rule(
    rule_id: UUID, data: SuppressionRuleUpdate, auth: Manager
) -> SuppressionRuleRead:
    return await service.update_rule(auth.session, auth.tenant_id, rule_id, data)


@suppression_rules.delete(
    "/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule"
)
async def delete_rule(rule_id: UUID, auth: Manager) -> Response:
    await service.delete_rule(auth.session, auth.tenant_id, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
