"""Every area's models, imported together so the metadata (and migrations) see all tables."""

from service.events.models import Event, EventPerson, Question, Supporter
from service.mail.models import OutboxMessage, Unsubscription
from service.ops.models import Observation, SchedulerHeartbeat
from service.organisers.models import Announcement, ExportRecord, Organiser
from service.registration.models import Answer, JoinClick, Registration
from service.statements.models import Signature, SignatureWord, Statement

__all__ = [
    "Announcement",
    "Answer",
    "Event",
    "EventPerson",
    "ExportRecord",
    "JoinClick",
    "Observation",
    "Organiser",
    "OutboxMessage",
    "Question",
    "Registration",
    "SchedulerHeartbeat",
    "Signature",
    "SignatureWord",
    "Statement",
    "Supporter",
    "Unsubscription",
]
