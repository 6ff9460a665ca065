"""Every area's models, imported together so the metadata (and migrations) see all tables."""

from service.events.models import Event, EventPerson, Supporter
from service.mail.models import OutboxMessage, Unsubscription
from service.organisers.models import ExportRecord, Organiser
from service.registration.models import JoinClick, Registration

__all__ = [
    "Event",
    "EventPerson",
    "ExportRecord",
    "JoinClick",
    "Organiser",
    "OutboxMessage",
    "Registration",
    "Supporter",
    "Unsubscription",
]
