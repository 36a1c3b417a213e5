"""Onboarding: a tenant, its owner and a first API key, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.service import IssuedKey, issue_api_key
from herald.kit.context import Role
from herald.tenant.models import Tenant
from herald.tenant.schemas import TenantCreate
from herald.tenant.service import create_tenant
from herald.user.models import User
from herald.user.service import add_member, get_or_create_user


@dataclass(frozen=True)
class Onboarded:
    tenant: Tenant
    owner: User
    api_key: IssuedKey


async def onboard_tenant(session: AsyncSession, data: TenantCreate, owner_email: str) -> Onboarded:
    tenant = await create_tenant(session, data)
    owner = await get_or_create_user(session, owner_email)
    await add_member(session, tenant.id, owner.id, Role.owner)
    key = await issue_api_key(session, tenant.id, "default", Role.owner, created_by=owner.id)
    return Onboarded(tenant=tenant, owner=owner, api_key=key)
