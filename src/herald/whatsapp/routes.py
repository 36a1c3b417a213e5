from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from herald.auth.dependencies import Admin, Manager, Viewer
from herald.kit.pagination import Page, PageParams, page_of, page_params
from herald.whatsapp import service
from herald.whatsapp.schemas import (
    RenderRequest,
    RenderResult,
    StatusChange,
    TemplateCreate,
    TemplateFilters,
    TemplateRead,
    TemplateUpdate,
    ValidationResult,
)

router = APIRouter(prefix="/v1/whatsapp-templates", tags=["whatsapp"])


@router.get("", response_model=Page[TemplateRead], summary="List WhatsApp templates, newest first")
async def list_templates(
    auth: Viewer,
    filters: Annotated[TemplateFilters, Query()],
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[TemplateRead]:
    found = await service.list_templates(auth.session, auth.tenant_id, filters, params)
    return page_of(found, TemplateRead)


@router.post(
    "",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a template (a DRAFT), checked against Meta's rules",
)
async def create_template(data: TemplateCreate, auth: Manager) -> TemplateRead:
    template = await service.create_template(auth.session, auth.tenant_id, data)
    return TemplateRead.model_validate(template)


@router.get("/{template_id}", response_model=TemplateRead, summary="Read a template")
async def read_template(template_id: UUID, auth: Viewer) -> TemplateRead:
    template = await service.get_template(auth.session, auth.tenant_id, template_id)
    return TemplateRead.model_validate(template)


@router.patch("/{template_id}", response_model=TemplateRead, summary="Edit a template")
async def update_template(template_id: UUID, data: TemplateUpdate, auth: Manager) -> TemplateRead:
    template = await service.update_template(auth.session, auth.tenant_id, template_id, data)
    return TemplateRead.model_validate(template)


@router.delete(
    "/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a DRAFT, REJECTED or DELETED template",
)
async def delete_template(template_id: UUID, auth: Manager) -> Response:
    await service.delete_template(auth.session, auth.tenant_id, template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{template_id}/validate",
    response_model=ValidationResult,
    summary="Check the template, with optional changes, without saving",
)
async def validate_template(
    template_id: UUID, auth: Viewer, data: TemplateUpdate | None = None
) -> ValidationResult:
    changes = data or TemplateUpdate()
    return await service.validate_template(auth.session, auth.tenant_id, template_id, changes)


@router.post(
    "/{template_id}/render",
    response_model=RenderResult,
    summary="Fill the template with values: the Cloud API components (and message, given to)",
)
async def render_template(template_id: UUID, data: RenderRequest, auth: Viewer) -> RenderResult:
    return await service.render_template(auth.session, auth.tenant_id, template_id, data)


@router.post(
    "/{template_id}/status",
    response_model=TemplateRead,
    summary="Move the template to another review status by hand",
)
async def change_status(template_id: UUID, data: StatusChange, auth: Admin) -> TemplateRead:
    template = await service.change_status(auth.session, auth.tenant_id, template_id, data)
    return TemplateRead.model_validate(template)
