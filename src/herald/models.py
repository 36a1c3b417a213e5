"""Every table's model, imported in one place so the metadata (Alembic, tests) is complete.

Models live in their domain's ``models.py``; this module only gathers them.
"""

from herald.audit.models import AuditEntry
from herald.auth.models import ApiKey, MagicLinkToken, RefreshToken
from herald.contact.models import ConsentEvent, Contact, DoNotContact, SuppressionRule
from herald.kit.models import Base
from herald.kit.ratelimit import RateLimitHit
from herald.secret.models import TenantSecret
from herald.tenant.models import Tenant
from herald.user.models import Invitation, Membership, User

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "ConsentEvent",
    "Contact",
    "DoNotContact",
    "Invitation",
    "MagicLinkToken",
    "Membership",
    "RateLimitHit",
    "RefreshToken",
    "SuppressionRule",
    "Tenant",
    "TenantSecret",
    "User",
]
