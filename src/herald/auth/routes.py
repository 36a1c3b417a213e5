from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from herald.auth import service
from herald.auth.dependencies import Admin
from herald.auth.repository import ApiKeyRepository
from herald.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from herald.kit.errors import Forbidden
from herald.kit.pagination import Page, PageParams, build_page, page_params

api_keys = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


@api_keys.get("", response_model=Page[ApiKeyRead], summary="List the tenant's API keys")
async def list_api_keys(
    auth: Admin, params: Annotated[PageParams, Depends(page_params)]
) -> Page[ApiKeyRead]:
    rows = await ApiKeyRepository(auth.session).list(auth.tenant_id, params)
    items, cursor = build_page(rows, params, "id")
    return Page(items=[ApiKeyRead.model_validate(k) for k in items], next_cursor=cursor)


@api_keys.post(
    "", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED, summary="Create a key"
)
async def create_api_key(data: ApiKeyCreate, auth: Admin) -> ApiKeyCreated:
    if not auth.role.at_least(data.role):
        raise Forbidden(f"You cannot create a key with more power ({data.role}) than your own.")
    issued = await service.issue_api_key(
        auth.session,
        auth.tenant_id,
        data.name,
        data.role,
        created_by=auth.user_id,
        expires_at=data.expires_at,
    )
    read = ApiKeyRead.model_validate(issued.key)
    return ApiKeyCreated(**read.model_dump(), key=issued.secret)


@api_keys.delete("/{key_id}", response_model=ApiKeyRead, summary="Revoke a key")
async def revoke_api_key(key_id: UUID, auth: Admin) -> ApiKeyRead:
    key = await service.revoke_api_key(auth.session, auth.tenant_id, key_id)
    return ApiKeyRead.model_validate(key)
