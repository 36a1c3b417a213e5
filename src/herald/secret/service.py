"""A tenant's named secrets: written through the API, read only by the code that needs them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.errors import NotFound
from herald.kit.models import utcnow
from herald.kit.pagination import PageParams, Slice
from herald.secret.models import TenantSecret
from herald.secret.repository import SecretRepository
from herald.secret.schemas import SecretPut


@dataclass(frozen=True)
class Stored:
    secret: TenantSecret
    created: bool


async def put_secret(session: AsyncSession, tenant_id: UUID, name: str, data: SecretPut) -> Stored:
    """Create or replace ``name``. A description left out keeps the current one.

    Concurrent writes of one name are serialized by a lock held to the end of the
    transaction: each sees the one before it, so the last to commit wins and none fails."""
    repo = SecretRepository(session)
    await repo.lock(tenant_id, name)
    secret = await repo.get(tenant_id, name)
    created = secret is None
    if secret is None:
        secret = TenantSecret(tenant_id=tenant_id, name=name, description=data.description)
        repo.add(secret)
    elif "description" in data.model_fields_set:
        secret.description = data.description
    secret.value = data.value
    secret.last_rotated_at = utcnow()
    await session.flush()
    return Stored(secret=secret, created=created)


async def get_secret(session: AsyncSession, tenant_id: UUID, name: str) -> TenantSecret:
    secret = await SecretRepository(session).get(tenant_id, name)
    if secret is None:
        raise NotFound(f"No secret named {name!r} in this tenant; PUT /v1/secrets/{name} sets it.")
    return secret


async def reveal(session: AsyncSession, tenant_id: UUID, name: str) -> str:
    """The plaintext, for the code that uses the credential (never for an API response)."""
    value = await SecretRepository(session).value(tenant_id, name)
    if value is None:
        raise NotFound(f"No secret named {name!r} in this tenant; PUT /v1/secrets/{name} sets it.")
    return value


async def delete_secret(session: AsyncSession, tenant_id: UUID, name: str) -> None:
    secret = await get_secret(session, tenant_id, name)
    await SecretRepository(session).delete(secret)
    await session.flush()


async def list_secrets(
    session: AsyncSession, tenant_id: UUID, params: PageParams
) -> Slice[TenantSecret]:
    """Names and metadata only: listing never decrypts a value."""
    return await SecretRepository(session).list(tenant_id, params)
