from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from herald.auth.dependencies import Admin
from herald.kit.pagination import Page, PageParams, page_of, page_params
from herald.secret import service
from herald.secret.schemas import NAME_PATTERN, SecretPut, SecretRead

router = APIRouter(prefix="/v1/secrets", tags=["secrets"])

SecretName = Annotated[
    str,
    Path(
        pattern=NAME_PATTERN,
        description="1-100 lower-case letters, digits, '_', '.' or '-', starting alphanumeric.",
    ),
]


@router.get("", response_model=Page[SecretRead], summary="List secrets (names, never values)")
async def list_secrets(
    auth: Admin, params: Annotated[PageParams, Depends(page_params)]
) -> Page[SecretRead]:
    return page_of(await service.list_secrets(auth.session, auth.tenant_id, params), SecretRead)


@router.get("/{name}", response_model=SecretRead, summary="A secret's metadata")
async def read_secret(name: SecretName, auth: Admin) -> SecretRead:
    return SecretRead.model_validate(await service.get_secret(auth.session, auth.tenant_id, name))


@router.put(
    "/{name}",
    response_model=SecretRead,
    summary="Set a secret (201 when new, 200 when replaced)",
    responses={201: {"model": SecretRead, "description": "Created"}},
)
async def put_secret(
    name: SecretName, data: SecretPut, auth: Admin, response: Response
) -> SecretRead:
    stored = await service.put_secret(auth.session, auth.tenant_id, name, data)
    response.status_code = status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK
    return SecretRead.model_validate(stored.secret)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a secret")
async def delete_secret(name: SecretName, auth: Admin) -> None:
    await service.delete_secret(auth.session, auth.tenant_id, name)
