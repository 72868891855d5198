"""Imports every model so the metadata is complete (for migrations and tests)."""

from fapiao.accounts.models import User
from fapiao.accounts.security_models import RecoveryCode, UserSecurity
from fapiao.accounts.tokenmodels import ApiToken, BrowserSession
from fapiao.announcements.models import Announcement
from fapiao.audit.models import AuditEntry, AuditHead
from fapiao.certification.models import CertificationPeriod
from fapiao.crypto.models import DataKey, EncryptionState
from fapiao.db import Base
from fapiao.invoices.models import (
    CreditUsage,
    IdempotencyKey,
    Invoice,
    InvoiceLine,
    IssueRejection,
    NumberSequence,
)
from fapiao.ledger.models import LedgerEntry, LedgerHead, SigningKey
from fapiao.limits.models import RateCounter
from fapiao.mail.models import MailAttempt, MailMessage
from fapiao.maintenance.models import MaintenanceWindow
from fapiao.outbox.models import OutboxEvent
from fapiao.reconcile.models import Reconciliation
from fapiao.redletter.models import RedLetterForm
from fapiao.taxpayers.models import Taxpayer
from fapiao.verification.models import VerificationCount
from fapiao.webhooks.models import Delivery, DeliveryAttempt, Webhook

__all__ = [
    "Announcement",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "BrowserSession",
    "CertificationPeriod",
    "CreditUsage",
    "DataKey",
    "Delivery",
    "DeliveryAttempt",
    "EncryptionState",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "IssueRejection",
    "LedgerEntry",
    "LedgerHead",
    "MailAttempt",
    "MailMessage",
    "MaintenanceWindow",
    "NumberSequence",
    "OutboxEvent",
    "RateCounter",
    "Reconciliation",
    "RecoveryCode",
    "RedLetterForm",
    "SigningKey",
    "Taxpayer",
    "User",
    "UserSecurity",
    "VerificationCount",
    "Webhook",
]
