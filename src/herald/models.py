"""Every table's model, imported in one place so the metadata (Alembic, tests) is complete.

Models live in their domain's ``models.py``; this module only gathers them.
"""

from herald.audit.models import AuditEntry
from herald.auth.models import ApiKey, MagicLinkToken, RefreshToken
from herald.budget.models import Budget
from herald.campaign.models import Campaign, CampaignEnrollment, CampaignStep, CampaignVariant
from herald.channel.models import Channel, SenderPool, SenderPoolMember, StickySender
from herald.contact.models import ConsentEvent, Contact, DoNotContact, SuppressionRule
from herald.cost.models import CallingCode, PriceEntry
from herald.hook.models import WebhookEvent, WebhookRejection
from herald.imports.models import ImportBatch, ImportFilePart, ImportIssue
from herald.inbox.models import (
    CannedReply,
    ComplianceReply,
    Conversation,
    ConversationNote,
    InboundContent,
    KeywordSettings,
)
from herald.kit.models import Base
from herald.kit.ratelimit import RateLimitHit
from herald.link.models import ShortLink
from herald.message.dispatch_models import ChannelSendWindow
from herald.message.models import Message, MessageEvent
from herald.secret.models import TenantSecret
from herald.segment.models import Segment, SegmentMembership
from herald.template.models import LibraryTemplate, Template, TemplateUsage
from herald.tenant.models import Tenant
from herald.user.models import Invitation, Membership, User
from herald.wallet.models import Wallet, WalletTransaction
from herald.whatsapp.models import WhatsAppTemplate

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Budget",
    "CallingCode",
    "Campaign",
    "CampaignEnrollment",
    "CampaignStep",
    "CampaignVariant",
    "CannedReply",
    "Channel",
    "ChannelSendWindow",
    "ComplianceReply",
    "ConsentEvent",
    "Contact",
    "Conversation",
    "ConversationNote",
    "DoNotContact",
    "ImportBatch",
    "ImportFilePart",
    "ImportIssue",
    "InboundContent",
    "Invitation",
    "KeywordSettings",
    "LibraryTemplate",
    "MagicLinkToken",
    "Membership",
    "Message",
    "MessageEvent",
    "PriceEntry",
    "RateLimitHit",
    "RefreshToken",
    "Segment",
    "SegmentMembership",
    "SenderPool",
    "SenderPoolMember",
    "ShortLink",
    "StickySender",
    "SuppressionRule",
    "Template",
    "TemplateUsage",
    "Tenant",
    "TenantSecret",
    "User",
    "Wallet",
    "WalletTransaction",
    "WebhookEvent",
    "WebhookRejection",
    "WhatsAppTemplate",
]
