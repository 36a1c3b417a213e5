from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from herald.sms.encoding import SmsInspection, inspect
from herald.tenant.service import get_tenant, settings_of


async def inspect_for_tenant(
    session: AsyncSession, tenant_id: UUID, text: str, smart: bool | None
) -> SmsInspection:
    """Inspect ``text`` as the tenant would send it: smart encoding unless told otherwise
    follows the tenant's setting, so a preview matches what a campaign will cost."""
    if smart is None:
        smart = settings_of(await get_tenant(session, tenant_id)).smart_encoding
    return inspect(text, smart=smart)
