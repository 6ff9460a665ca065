"""Every area's models, imported together so the metadata (and migrations) see all tables."""

from service.access.models import (
    EventMember,
    Invitation,
    InvitedEventRole,
    InvitedStatementRole,
    StatementMember,
)
from service.audit.models import AuditEntry
from service.csv_export import ExportRecord
from service.events.models import Event, EventPerson, Question, Supporter
from service.followups.models import FollowUp, FollowUpVersion
from service.mail.models import OutboxMessage, Unsubscription
from service.media.models import Image, SiteSettings
from service.ops.models import Observation, SchedulerHeartbeat
from service.organisers.models import Organiser, RecoveryCode
from service.registration.models import Announcement, Answer, JoinClick, Registration
from service.statements.models import Signature, SignatureWord, Statement

__all__ = [
    "Announcement",
    "Answer",
    "AuditEntry",
    "Event",
    "EventMember",
    "EventPerson",
    "ExportRecord",
    "FollowUp",
    "FollowUpVersion",
    "Image",
    "Invitation",
    "InvitedEventRole",
    "InvitedStatementRole",
    "JoinClick",
    "Observation",
    "Organiser",
    "OutboxMessage",
    "Question",
    "RecoveryCode",
    "Registration",
    "SchedulerHeartbeat",
    "Signature",
    "SignatureWord",
    "SiteSettings",
    "Statement",
    "StatementMember",
    "Supporter",
    "Unsubscription",
]
