"""Every table's model, imported in one place so the metadata (Alembic, tests) is complete.

Models live in their domain's ``models.py``; this module only gathers them.
"""

from herald.auth.models import ApiKey
from herald.contact.models import ConsentEvent, Contact, DoNotContact, SuppressionRule
from herald.kit.models import Base
from herald.tenant.models import Tenant
from herald.user.models import Membership, User

__all__ = [
    "ApiKey",
    "Base",
    "ConsentEvent",
    "Contact",
    "DoNotContact",
    "Membership",
    "SuppressionRule",
    "Tenant",
    "User",
]
