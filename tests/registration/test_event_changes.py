"""Changes people hear about, cancelling and reinstating: what the organiser is asked, who is
told, and the mail that reaches them (through the real SMTP sink), in English and Spanish."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.events.models import Event, EventStatus
from service.extensions import db
from service.mail import service as mail
from service.mail.models import OutboxMessage
from service.registration import service as registering
from service.registration.models import Registration, RegistrationStatus
from tests.events.fixtures import SECRET_JOIN_URL
from tests.events.test_calendar import read_with_icaljs
from tests.events.test_pages import text_of
from tests.media.conftest import picture
from tests.media.test_pages import post_multipart, upload
from tests.organisers.conftest import logged_in as log_in
from tests.organisers.conftest import make_organiser, manager_of_everything
from tests.registration.fixtures import csrf_token
from tests.registration.test_capacity import NOW, WHEN

__all__ = ["make_organiser"]  # the organisers' fixture, used here

SLUG = "solidarity-meeting"
EDIT = f"/organisers/events/{SLUG}/edit"
SIGNED_UP = datetime(2027, 3, 1, tzinfo=UTC)
NEW_LINK = "https://meet.example.org/a-brand-new-room"


@pytest.fixture
def organiser_client(app, client, make_organiser):
    account = make_organiser("organiser@example.org")
    with manager_of_everything(app, account.id):
        yield log_in(client, account)


@pytest.fixture
def event(make_event, make_registration):
    """A published online meeting at 18:30 London time on Monday 19 April 2027: Ana
    (English) and Bea (Spanish) registered, Carla waiting, Dora gone."""
    event = make_event(capacity=2)
    make_registration(event.id, "ana@example.org", created_at=SIGNED_UP)
    make_registration(event.id, "bea@example.org", created_at=SIGNED_UP, language="es")
    for email, status in (
        ("carla@example.org", RegistrationStatus.WAITING),
        ("dora@example.org", RegistrationStatus.CANCELLED),
    ):
        make_registration(event.id, email, created_at=SIGNED_UP, status=status)
    return event


class FormReader(HTMLParser):
    """The fields a browser would send from the page's form that holds ``marker``."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.inside, self.fields = marker, False, []
        self.textarea: str | None = None
        self.select: str | None = None
        self.options: list[str] = []
        self.chosen: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = self.marker in (attributes.get("class") or "")
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in attributes:
                return
            if kind not in ("submit", "button"):
                self.fields.append((name, attributes.get("value") or ""))
        elif tag == "textarea":
            self.textarea = name
            self.fields.append((name, ""))
        elif tag == "select":
            self.select, self.options, self.chosen = name, [], None
        elif tag == "option" and self.select:
            self.options.append(attributes.get("value") or "")
            if "selected" in attributes:
                self.chosen = self.options[-1]

    def handle_data(self, data):
        if self.textarea:
            name, value = self.fields.pop()
            self.fields.append((name, value + data))

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select:
            # Without a selected option, a browser sends the first.
            self.fields.append((self.select, self.chosen or self.options[0]))
            self.select = None
        elif tag == "form":
            self.inside = False


def filled_form(html: str, marker: str, **changes: str) -> dict[str, list[str]]:
    reader = FormReader(marker)
    reader.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    data.update({name: [value] for name, value in changes.items()})
    return data


def edit(client, **changes: str):
    """Send the edit form as it is filled in, with ``changes``."""
    page = client.get(EDIT).get_data(as_text=True)
    return client.post(EDIT, data=filled_form(page, "event-form", **changes))


NEW_TIME = {"starts_at": "2027-04-20T19:00", "ends_at": "2027-04-20T20:30"}


def outbox(app, template: str = "registration/event_changed") -> list[str]:
    with app.app_context():
        return sorted(
            db.session.scalars(
                select(OutboxMessage.recipient).where(OutboxMessage.template == template)
            )
        )


def stored_event(app) -> Event:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        db.session.expunge(event)
        return event


def deliver(app) -> None:
    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))


def body(message: EmailMessage, kind: str = "plain") -> str:
    return message.get_body(preferencelist=(kind,)).get_content()


def calendar_of(message: EmailMessage) -> dict:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    [read] = read_with_icaljs(part.get_content().encode())
    return read


def audit_details(app, action: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action))
        )


# --- changes ---------------------------------------------------------------------------------


def test_a_new_time_asks_first_saying_what_changed_and_who_will_be_told(
    app, organiser_client, event
):
    page = edit(organiser_client, **NEW_TIME)
    assert page.status_code == 200
    text = text_of(page)
    assert "Check the changes before saving" in text
    assert "Starts Monday 19 April 2027, 18:30 BST Tuesday 20 April 2027, 19:00 BST" in text
    assert "Ends 20:00" not in text and "Tuesday 20 April 2027, 20:30 BST" in text
    assert "Who will be told: 2 registered and 1 waiting" in text
    html = page.get_data(as_text=True)
    assert 'name="tell" value="yes" checked' in html  # telling them is the default
    assert 'name="tell" value="no">' in html
    # Nothing is saved or sent yet.
    assert stored_event(app).starts_at == event.starts_at
    assert outbox(app) == []


def test_back_returns_to_the_form_as_it_was_filled_in(app, organiser_client, event):
    confirm = edit(organiser_client, **NEW_TIME, summary="A new summary").get_data(as_text=True)
    back = organiser_client.post(EDIT, data=filled_form(confirm, "confirm-changes", back="1"))
    assert back.status_code == 200
    html = back.get_data(as_text=True)
    assert 'value="2027-04-20T19:00"' in html and 'value="A new summary"' in html
    assert stored_event(app).summary != "A new summary"
    assert outbox(app) == []


def event_image(app):
    with app.app_context():
        image = db.session.scalar(select(Event).where(Event.slug == SLUG)).image
        return (image.id, image.alt) if image is not None else None


def test_a_new_image_with_a_change_to_confirm_waits_for_the_confirmation(
    app, organiser_client, event
):
    form = filled_form(organiser_client.get(EDIT).get_data(as_text=True), "event-form")
    chosen = {**form, **NEW_TIME, "image_alt": "A march", "image": upload(picture())}
    confirm = post_multipart(organiser_client, EDIT, chosen)
    assert "Check the changes before saving" in text_of(confirm)
    assert event_image(app) is None  # nothing shows it until the change is confirmed

    back = organiser_client.post(
        EDIT, data=filled_form(confirm.get_data(as_text=True), "confirm-changes", back="1")
    )
    assert "The new image you chose is kept" in text_of(back)
    assert event_image(app) is None
    again = organiser_client.post(EDIT, data=filled_form(back.get_data(as_text=True), "event-form"))
    assert "Check the changes before saving" in text_of(again)
    saved = organiser_client.post(
        EDIT, data=filled_form(again.get_data(as_text=True), "confirm-changes")
    )
    assert saved.status_code == 302
    [_image_id, alt] = event_image(app)
    assert alt == "A march"


def test_a_forged_kept_image_is_ignored(app, organiser_client, event):
    confirm = edit(organiser_client, **NEW_TIME)
    forged = filled_form(confirm.get_data(as_text=True), "confirm-changes", image_kept="1.forged")
    assert organiser_client.post(EDIT, data=forged).status_code == 302
    assert event_image(app) is None


def test_telling_them_mails_old_and_new_in_each_persons_language_with_the_calendar(
    app, organiser_client, event, smtp
):
    confirm = edit(organiser_client, **NEW_TIME).get_data(as_text=True)
    saved = organiser_client.post(EDIT, data=filled_form(confirm, "confirm-changes"))
    assert saved.status_code == 302
    assert "Saved. 3 people will be told what changed." in text_of(
        organiser_client.get(saved.location)
    )
    assert stored_event(app).starts_at == datetime(2027, 4, 20, 18, 0, tzinfo=UTC)
    deliver(app)

    [ana] = smtp.to("ana@example.org")
    text = body(ana)
    assert (
        "Starts: was Monday 19 April 2027, 18:30 BST, now Tuesday 20 April 2027, 19:00 BST" in text
    )
    assert "Ends: was Monday 19 April 2027, 20:00 BST, now Tuesday 20 April 2027, 20:30 BST" in text
    assert "was Monday 19 April 2027, 18:30 BST" in body(ana, "html")
    calendar = calendar_of(ana)
    assert calendar["uid"] == f"{event.uid}@convoca"
    assert calendar["sequence"] > event.sequence
    assert calendar["start"] == "2027-04-20T18:00:00.000Z"

    [bea] = smtp.to("bea@example.org")
    assert bea["Subject"].startswith("Cambio")
    assert "lunes, 19 de abril de 2027, 18:30 BST" in body(bea)
    assert "martes, 20 de abril de 2027, 19:00 BST" in body(bea)

    [carla] = smtp.to("carla@example.org")  # waiting: told, without a calendar file
    assert "Starts: was Monday 19 April 2027" in body(carla)
    assert not [p for p in carla.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert smtp.to("dora@example.org") == []
    assert audit_details(app, "events.edit") == ["told: 3"]


def test_saving_without_telling_sends_nothing(app, organiser_client, event, smtp):
    confirm = edit(organiser_client, **NEW_TIME).get_data(as_text=True)
    saved = organiser_client.post(EDIT, data=filled_form(confirm, "confirm-changes", tell="no"))
    assert "Saved. Nobody was told." in text_of(organiser_client.get(saved.location))
    assert stored_event(app).starts_at == datetime(2027, 4, 20, 18, 0, tzinfo=UTC)
    deliver(app)
    assert outbox(app) == [] and smtp.messages == []
    assert audit_details(app, "events.edit") == ["told: no"]


def test_a_new_place_is_told_to_the_waiting_list_too(app, organiser_client, event, smtp):
    page = edit(organiser_client, format="hybrid", venue="Bolivar Hall", address="54 Grafton Way")
    text = text_of(page)
    assert "Format Online In person and online" in text
    assert "Venue (none) Bolivar Hall" in text
    assert "2 registered and 1 waiting" in text
    organiser_client.post(EDIT, data=filled_form(page.get_data(as_text=True), "confirm-changes"))
    deliver(app)
    [carla] = smtp.to("carla@example.org")
    assert "Venue: was (none), now Bolivar Hall" in body(carla)


def test_a_new_joining_link_is_told_only_to_those_confirmed_and_never_shown(
    app, organiser_client, event, smtp
):
    page = edit(organiser_client, join_url=NEW_LINK)
    text = text_of(page)
    assert "Who will be told: 2 registered and 0 waiting" in text
    assert NEW_LINK not in text and SECRET_JOIN_URL not in text
    organiser_client.post(EDIT, data=filled_form(page.get_data(as_text=True), "confirm-changes"))
    assert stored_event(app).join_url == NEW_LINK
    deliver(app)
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in smtp.messages) == [
        "ana@example.org",
        "bea@example.org",
    ]
    [ana] = smtp.to("ana@example.org")
    for kind in ("plain", "html"):
        assert NEW_LINK not in body(ana, kind) and SECRET_JOIN_URL not in body(ana, kind)
    assert "The joining link has changed: your personal joining link below" in body(ana)
    assert "https://events.example.org/j/" in body(ana)  # their own way in
    with app.app_context():
        [params] = db.session.scalars(select(OutboxMessage.params).limit(1))
        assert NEW_LINK not in str(params)


def test_changes_on_a_draft_or_that_nobody_needs_save_at_once(
    app, organiser_client, event, make_event
):
    assert edit(organiser_client, summary="Just words").status_code == 302
    assert outbox(app) == []
    make_event(slug="quiet-meeting")  # published, nobody registered
    page = organiser_client.get("/organisers/events/quiet-meeting/edit").get_data(as_text=True)
    saved = organiser_client.post(
        "/organisers/events/quiet-meeting/edit",
        data=filled_form(page, "event-form", **NEW_TIME),
    )
    assert saved.status_code == 302
    with app.app_context():
        registering.change_status(db.session.get(Event, event.id), EventStatus.DRAFT, NOW)
    assert edit(organiser_client, **NEW_TIME).status_code == 302
    assert outbox(app) == []


def test_the_old_tick_box_is_gone(organiser_client, event):
    html = organiser_client.get(EDIT).get_data(as_text=True)
    assert 'name="notify"' not in html and "Tell registrants" not in html


# --- cancelling and reinstating --------------------------------------------------------------


def cancel(client, message: str = ""):
    page = client.get(f"/organisers/events/{SLUG}/cancel")
    assert page.status_code == 200
    return client.post(
        f"/organisers/events/{SLUG}/cancel",
        data={
            "csrf_token": csrf_token(client, f"/organisers/events/{SLUG}/cancel"),
            "message": message,
        },
    )


def test_cancelling_asks_on_its_own_page_and_nothing_happens_until_confirmed(
    app, organiser_client, event
):
    status_form = organiser_client.post(
        f"/organisers/events/{SLUG}/status",
        data={"csrf_token": csrf_token(organiser_client, EDIT), "status": "cancelled"},
    )
    assert status_form.status_code == 303
    assert status_form.location.endswith(f"/organisers/events/{SLUG}/cancel")
    page = text_of(organiser_client.get(status_form.location))
    assert "Cancel Solidarity meeting?" in page
    assert "2 registered and 1 waiting" in page
    assert "A message to registrants (optional)" in page
    assert stored_event(app).status is EventStatus.PUBLISHED


def test_cancelling_with_a_message_mails_it_to_everyone(app, organiser_client, event, smtp):
    done = cancel(organiser_client, "We will meet **next month** instead.")
    assert "Cancelled. 3 people will be told." in text_of(organiser_client.get(done.location))
    assert stored_event(app).status is EventStatus.CANCELLED
    deliver(app)
    [ana] = smtp.to("ana@example.org")
    assert "We will meet next month instead." in body(ana)
    assert "<strong>next month</strong>" in body(ana, "html")
    [bea] = smtp.to("bea@example.org")
    assert "La organización escribe:" in body(bea)
    assert len(smtp.to("carla@example.org")) == 1
    assert audit_details(app, "events.cancel") == ["told: 3, with a message"]
    assert "This event has been cancelled." in text_of(organiser_client.get(f"/events/{SLUG}"))
    assert "Cancelled" in text_of(organiser_client.get("/"))
    assert organiser_client.get(f"/api/events/{SLUG}").get_json()["cancelled"] is True


def test_a_cancelled_event_offers_reinstate_and_refuses_publish(app, organiser_client, event):
    cancel(organiser_client)
    html = organiser_client.get(EDIT).get_data(as_text=True)
    assert 'value="published"' not in html  # no Publish button
    assert "Reinstate the event" in html
    refused = organiser_client.post(
        f"/organisers/events/{SLUG}/status",
        data={"csrf_token": csrf_token(organiser_client, EDIT), "status": "published"},
    )
    assert "This event is cancelled: reinstate it to publish it again" in text_of(
        organiser_client.get(refused.location)
    )
    assert stored_event(app).status is EventStatus.CANCELLED
    with app.app_context(), pytest.raises(registering.ReinstateInstead):
        registering.change_status(db.session.get(Event, event.id), EventStatus.PUBLISHED, NOW)


def reinstate(client, tell: str):
    path = f"/organisers/events/{SLUG}/reinstate"
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_token(client, path), "tell": tell})


def test_reinstating_tells_those_told_of_the_cancellation(app, organiser_client, event, smtp):
    cancel(organiser_client)
    deliver(app)
    cancelled_sequence = stored_event(app).sequence
    page = organiser_client.get(f"/organisers/events/{SLUG}/reinstate")
    assert "2 registered and 1 waiting" in text_of(page)
    assert '<input checked id="tell-0" name="tell" type="radio" value="yes">' in page.get_data(
        as_text=True
    )  # telling them is the default
    done = reinstate(organiser_client, "yes")
    assert "Reinstated. 3 people will be told." in text_of(organiser_client.get(done.location))
    assert stored_event(app).status is EventStatus.PUBLISHED
    with app.app_context():  # the registrations stand as they were
        assert sorted(
            (r.email, r.status.value) for r in db.session.scalars(select(Registration))
        ) == [
            ("ana@example.org", "confirmed"),
            ("bea@example.org", "confirmed"),
            ("carla@example.org", "waiting"),
            ("dora@example.org", "cancelled"),
        ]
    deliver(app)
    [_, ana] = smtp.to("ana@example.org")
    assert ana["Subject"] == "On again: Solidarity meeting"
    assert "Your place is kept for you." in body(ana)
    calendar = calendar_of(ana)
    assert (calendar["status"], calendar["uid"]) == ("CONFIRMED", f"{event.uid}@convoca")
    assert calendar["sequence"] > cancelled_sequence
    [_, bea] = smtp.to("bea@example.org")
    assert bea["Subject"].startswith("De nuevo")
    [_, carla] = smtp.to("carla@example.org")
    assert "You are still on the waiting list, number 1." in body(carla)
    assert smtp.to("dora@example.org") == []
    assert audit_details(app, "events.reinstate") == ["told: 3"]
    # The public page, the API and the calendar follow.
    assert "cancelled" not in text_of(organiser_client.get(f"/events/{SLUG}"))
    assert organiser_client.get(f"/api/events/{SLUG}").get_json()["status"] == "published"
    [download] = read_with_icaljs(organiser_client.get(f"/events/{SLUG}.ics").data)
    assert (download["status"], download["sequence"]) == ("CONFIRMED", calendar["sequence"])


def test_reinstating_without_telling_sends_nothing(app, organiser_client, event, smtp):
    cancel(organiser_client)
    deliver(app)
    sent = len(smtp.messages)
    done = reinstate(organiser_client, "no")
    assert "Reinstated. Nobody was told." in text_of(organiser_client.get(done.location))
    assert stored_event(app).status is EventStatus.PUBLISHED
    deliver(app)
    assert len(smtp.messages) == sent
    assert outbox(app, "registration/event_reinstated") == []
    assert audit_details(app, "events.reinstate") == ["told: no"]


def test_only_a_cancelled_event_is_reinstated_and_only_once_cancelled(app, organiser_client, event):
    path = f"/organisers/events/{SLUG}/reinstate"
    message = "Only a cancelled event can be reinstated."
    assert message in text_of(organiser_client.get(path))
    token = csrf_token(organiser_client, EDIT)
    sent = organiser_client.post(path, data={"csrf_token": token, "tell": "yes"})
    assert message in text_of(organiser_client.get(sent.location))
    assert stored_event(app).sequence == event.sequence
    cancel(organiser_client)
    again = f"/organisers/events/{SLUG}/cancel"
    assert "This event is already cancelled." in text_of(organiser_client.get(again))


# --- the services --------------------------------------------------------------------------


def cancelled_notices(app) -> list[str]:
    return outbox(app, "registration/event_cancelled")


def test_cancelling_a_published_event_tells_everyone_registered_or_waiting(app, make_event):
    event = make_event(**WHEN, capacity=1)
    with app.app_context():
        for name in ("ana", "bea"):
            registering.register(
                event.slug, registering.Attendee(name, f"{name}@example.org"), "en", NOW
            )
        told = registering.change_status(
            db.session.get(Event, event.id), EventStatus.CANCELLED, NOW
        )
        assert told == 2
        assert db.session.get(Event, event.id).status is EventStatus.CANCELLED
    assert cancelled_notices(app) == ["ana@example.org", "bea@example.org"]


def test_other_status_changes_tell_nobody(app, make_event):
    event = make_event(**WHEN, status="draft")
    with app.app_context():
        told = registering.change_status(
            db.session.get(Event, event.id), EventStatus.CANCELLED, NOW
        )
        assert told == 0
        told = registering.reinstate_event(db.session.get(Event, event.id), True, NOW)
        assert (told, db.session.get(Event, event.id).sequence) == (0, 2)
    assert cancelled_notices(app) == []


def test_a_draft_offers_no_cancelling_and_stays_a_draft(app, organiser_client, make_event):
    """Cancelling a draft and then reinstating it would publish it: a draft is not cancelled."""
    make_event(**WHEN, status="draft")
    assert "Cancel the event" not in organiser_client.get(EDIT).get_data(as_text=True)
    path = f"/organisers/events/{SLUG}/cancel"
    assert "nothing to cancel" in text_of(organiser_client.get(path))
    refused = organiser_client.post(
        path, data={"csrf_token": csrf_token(organiser_client, EDIT), "message": ""}
    )
    assert "nothing to cancel" in text_of(organiser_client.get(refused.location))
    assert stored_event(app).status is EventStatus.DRAFT
