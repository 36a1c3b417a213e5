from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Response, status

from herald.auth.dependencies import AppSettings, Manager, Viewer
from herald.kit.pagination import Page, PageParams, page_of, page_params
from herald.template import service
from herald.template.schemas import (
    BodyPreviewRequest,
    LibraryTemplateRead,
    LibraryUse,
    Preview,
    PreviewRequest,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
)

templates = APIRouter(prefix="/v1/templates", tags=["templates"])
library = APIRouter(prefix="/v1/template-library", tags=["templates"])

Params = Annotated[PageParams, Depends(page_params)]
NameQuery = Annotated[
    str | None, Query(max_length=200, description="Names starting with this (any case).")
]
CategoryQuery = Annotated[str | None, Query(max_length=50)]
TagQuery = Annotated[str | None, Query(max_length=50, description="Templates with this tag.")]


@templates.get("", response_model=Page[TemplateRead], summary="List templates by name")
async def list_templates(
    auth: Viewer,
    params: Params,
    name: NameQuery = None,
    category: CategoryQuery = None,
    tag: TagQuery = None,
) -> Page[TemplateRead]:
    found = await service.list_templates(
        auth.session, auth.tenant_id, params, name=name, category=category, tag=tag
    )
    return page_of(found, TemplateRead)


@templates.post(
    "",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a template (422 with line and column on a syntax error)",
)
async def create_template(data: TemplateCreate, auth: Manager) -> TemplateRead:
    return await service.create_template(auth.session, auth.tenant_id, data)


@templates.post(
    "/preview",
    response_model=Preview,
    summary="Render a body that is not saved yet, with segments and cost",
)
async def preview_body(data: BodyPreviewRequest, auth: Viewer, settings: AppSettings) -> Preview:
    return await service.preview_body(auth.session, auth.tenant_id, data, settings)


@templates.get("/{template_id}", response_model=TemplateRead, summary="Read a template")
async def read_template(template_id: UUID, auth: Viewer) -> TemplateRead:
    return service.to_read(await service.get_template(auth.session, auth.tenant_id, template_id))


@templates.patch("/{template_id}", response_model=TemplateRead, summary="Change a template")
async def update_template(template_id: UUID, data: TemplateUpdate, auth: Manager) -> TemplateRead:
    return await service.update_template(auth.session, auth.tenant_id, template_id, data)


@templates.delete(
    "/{template_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a template"
)
async def delete_template(template_id: UUID, auth: Manager) -> Response:
    await service.delete_template(auth.session, auth.tenant_id, template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@templates.post(
    "/{template_id}/preview",
    response_model=Preview,
    summary="Render for a contact or sample values, with segments and cost",
)
async def preview_template(
    template_id: UUID,
    auth: Viewer,
    settings: AppSettings,
    data: Annotated[PreviewRequest | None, Body()] = None,
) -> Preview:
    return await service.preview_template(
        auth.session, auth.tenant_id, template_id, data or PreviewRequest(), settings
    )


@library.get("", response_model=Page[LibraryTemplateRead], summary="Browse the template library")
async def list_library(
    auth: Viewer, params: Params, category: CategoryQuery = None, tag: TagQuery = None
) -> Page[LibraryTemplateRead]:
    found = await service.list_library(auth.session, params, category=category, tag=tag)
    return page_of(found, LibraryTemplateRead)


@library.get("/{entry_id}", response_model=LibraryTemplateRead, summary="Read a library template")
async def read_library_template(entry_id: UUID, auth: Viewer) -> LibraryTemplateRead:
    entry = await service.get_library_template(auth.session, entry_id)
    return LibraryTemplateRead.model_validate(entry)


@library.post(
    "/{entry_id}/use",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    summary="Copy a library template into your templates",
)
async def use_library_template(
    entry_id: UUID, auth: Manager, data: Annotated[LibraryUse | None, Body()] = None
) -> TemplateRead:
    return await service.use_library_template(
        auth.session, auth.tenant_id, entry_id, data or LibraryUse()
    )
