from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.audit import service as audit
from herald.kit.errors import NotFound
from herald.tenant.models import Tenant, TenantStatus
from herald.tenant.repository import TenantRepository
from herald.tenant.schemas import TenantCreate, TenantSettings, TenantUpdate


async def create_tenant(session: AsyncSession, data: TenantCreate) -> Tenant:
    tenant = Tenant(**data.model_dump(), settings={})
    TenantRepository(session).add(tenant)
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, tenant_id: UUID) -> Tenant:
    tenant = await TenantRepository(session).get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id}.")
    return tenant


async def set_status(
    session: AsyncSession, tenant_id: UUID, status: TenantStatus, reason: str | None = None
) -> Tenant:
    """Suspend or resume a tenant (an operator's action: a suspended tenant's keys and users
    are refused on every request and its queued imports do not run; its data is kept). The
    tenant's audit log keeps the change and its reason."""
    tenant = await get_tenant(session, tenant_id)
    previous, tenant.status = tenant.status, status
    await session.flush()
    await audit.record(
        session,
        f"tenant.{'resumed' if status is TenantStatus.active else 'suspended'}",
        Tenant.__tablename__,
        tenant_id,
        changes={"status": {"old": previous.value, "new": status.value}, "reason": reason},
        tenant_id=tenant_id,
    )
    return tenant


async def update_tenant(
    session: AsyncSession, tenant_id: UUID, data: TenantUpdate
) -> tuple[Tenant, dict[str, Any]]:
    """Apply the fields that were sent; return the tenant and what changed (for the audit log)."""
    tenant = await get_tenant(session, tenant_id)
    changes: dict[str, Any] = {}
    sent = data.model_dump(exclude_unset=True)
    paused = sent.pop("paused", None)
    if paused is not None:
        sent["is_paused"] = paused
    if data.settings is not None:
        # A key sent as null goes back to its default (booleans and the language have no null).
        patch = data.settings.model_dump(exclude_unset=True)
        merged = {k: v for k, v in {**tenant.settings, **patch}.items() if v is not None}
        sent["settings"] = TenantSettings.model_validate(merged).model_dump()
    for field, value in sent.items():
        if value is not None and getattr(tenant, field) != value:
            changes[field] = value
            setattr(tenant, field, value)
    await session.flush()
    return tenant, changes


async def set_paused(
    session: AsyncSession, tenant_id: UUID, paused: bool, reason: str | None = None
) -> Tenant:
    """Throw or lift the kill switch from the operator's command line, with an audit entry
    (no caller is bound there). The dispatcher reads the switch at every claim, so sends stop
    from its next batch; messages already handed to a provider are not called back."""
    tenant = await get_tenant(session, tenant_id)
    previous, tenant.is_paused = tenant.is_paused, paused
    await session.flush()
    await audit.record(
        session,
        f"tenant.{'paused' if paused else 'unpaused'}",
        Tenant.__tablename__,
        tenant_id,
        changes={"is_paused": {"old": previous, "new": paused}, "reason": reason},
        tenant_id=tenant_id,
    )
    return tenant


def settings_of(tenant: Tenant) -> TenantSettings:
    """The tenant's messaging preferences, with defaults for what was never set."""
    return TenantSettings.model_validate(tenant.settings)
