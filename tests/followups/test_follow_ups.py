"""Follow-ups: written on the organisers' page, previewed, tested, then sent once to each
confirmed registrant (the attended or the missed version, in their language) through a real
SMTP server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.extensions import db
from service.followups import service
from service.followups.models import FollowUp
from service.mail import service as mail
from service.mail.models import MessageKind, OutboxMessage
from service.registration.retention import apply_retention
from tests.events.fixtures import LONDON
from tests.events.test_pages import text_of
from tests.followups.conftest import ENDS, NEXT_MORNING, PATH, deliver, save
from tests.organisers.conftest import snapshot
from tests.registration.fixtures import csrf_token

AFTER = NEXT_MORNING + timedelta(minutes=1)


def subjects(smtp) -> dict[str, str]:
    return {
        str(message["To"]).split("<")[1].rstrip(">"): message["Subject"]
        for message in smtp.messages
    }


def send_due(app, now: datetime) -> int:
    with app.app_context():
        return service.send_due(now)


@pytest.mark.parametrize(
    ("starts", "ends", "expected_utc"),
    [
        # An ordinary evening: 09:00 BST the next day.
        ((2027, 4, 19, 18, 30), (2027, 4, 19, 20, 0), datetime(2027, 4, 20, 8, 0, tzinfo=UTC)),
        # The evening before the clocks go forward: 09:00 BST, not 13 hours after the end.
        ((2027, 3, 27, 18, 30), (2027, 3, 27, 20, 0), datetime(2027, 3, 28, 8, 0, tzinfo=UTC)),
        # The evening before they go back: 09:00 GMT.
        ((2027, 10, 30, 18, 30), (2027, 10, 30, 20, 0), datetime(2027, 10, 31, 9, 0, tzinfo=UTC)),
        # A meeting that runs past midnight: still the next morning, not a day later.
        ((2027, 4, 19, 22, 0), (2027, 4, 20, 0, 30), datetime(2027, 4, 20, 8, 0, tzinfo=UTC)),
        # A meeting that runs past the next morning: the morning after it ends.
        ((2027, 4, 19, 18, 0), (2027, 4, 20, 12, 0), datetime(2027, 4, 21, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_default_send_time_is_the_next_morning_in_the_events_zone(
    app, make_event, starts, ends, expected_utc
):
    event = make_event(
        starts_at=datetime(*starts, tzinfo=LONDON).isoformat(),
        ends_at=datetime(*ends, tzinfo=LONDON).isoformat(),
    )
    with app.app_context():
        assert service.default_send_at(event) == expected_utc


def test_the_page_offers_the_default_time_and_says_when_it_will_go(organiser, meeting):
    page = organiser.get(PATH).get_data(as_text=True)
    assert 'value="2027-04-20T09:00"' in page
    assert "Nothing is sent until you save the follow-up." in text_of(organiser.get(PATH))

    saved = save(organiser, meeting)
    assert saved.status_code == 302
    shown = text_of(organiser.get(saved.headers["Location"]))
    assert "Will be sent on Tuesday 20 April 2027, 09:00 BST (Europe/London)" in shown


def test_who_attended_is_counted_once_the_meeting_has_started(organiser, meeting, make_event):
    before = text_of(organiser.get(PATH))
    assert "4 people have a place. Who attended is known once the meeting has started." in before
    assert "So far" not in before  # nobody "did not attend" a meeting still to come
    make_event(  # the meeting moved to a day gone: Ana's check-in counts, Ben's click does not
        starts_at=datetime(2026, 11, 16, 18, 30, tzinfo=LONDON).isoformat(),
        ends_at=datetime(2026, 11, 16, 20, 0, tzinfo=LONDON).isoformat(),
    )
    assert "So far: 1 attended, 3 did not." in text_of(organiser.get(PATH))


def test_a_time_before_the_end_is_refused_and_nothing_is_saved(app, organiser, meeting):
    before = snapshot(app)
    refused = save(organiser, meeting, send_at="2027-04-19T19:59")
    assert refused.status_code == 400
    page = text_of(refused)
    assert "It cannot go before the meeting ends (Monday 19 April 2027, 20:00 BST)." in page
    assert "Thank you for coming" in refused.get_data(as_text=True)  # what was typed is kept
    assert snapshot(app) == before


def test_a_link_ticked_but_not_given_and_a_bad_address_are_refused(app, organiser, meeting):
    before = snapshot(app)
    refused = save(organiser, meeting, recording_url="javascript:alert(1)", slides_url="")
    assert refused.status_code == 400
    page = text_of(refused)
    assert "Enter a web address starting with https:// or http://." in page
    assert "Give the slides link above, or untick this." in page
    nul = save(organiser, meeting, attended_body="a\x00b")
    assert nul.status_code == 400
    assert "Please remove the invisible control characters from this field." in text_of(nul)
    assert snapshot(app) == before


def test_each_person_gets_their_version_once_in_their_language(app, organiser, meeting, smtp):
    save(organiser, meeting)
    assert send_due(app, NEXT_MORNING - timedelta(minutes=1)) == 0  # not yet
    assert send_due(app, AFTER) == 4
    assert send_due(app, AFTER + timedelta(hours=1)) == 0  # the next sweep, or after a restart
    deliver(app, AFTER)
    assert subjects(smtp) == {
        "ana@example.org": "Thank you for coming",  # checked in
        "ben@example.org": "Gracias por venir",  # joined online during the meeting
        "cai@example.org": "Sorry we missed you",  # clicked before the link opened
        "dee@example.org": "Te echamos de menos",
    }  # nobody waiting or cancelled
    [ana] = smtp.to("ana@example.org")
    text = ana.get_body(("plain",)).get_content()
    assert "It was wonderful to see you." in text and "alert(1)" not in ana.as_string()
    assert "https://slides.example.org/bolivia.pdf" in text
    assert "video.example.org" not in text  # the attended version leaves the recording out
    assert "Add your name: Solidarity with Bolivia" in text
    assert ana["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [dee] = smtp.to("dee@example.org")
    assert "https://video.example.org/bolivia-meeting" in dee.get_body(("plain",)).get_content()
    assert "Hola, Dee:" in dee.get_body(("plain",)).get_content()

    page = text_of(organiser.get(PATH))
    assert "Sent to 4 people on Tuesday 20 April 2027, 09:01 BST." in page


def test_two_sweeps_at_once_queue_each_person_once(app, organiser, meeting):
    save(organiser, meeting)
    start = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        with app.app_context():
            start.wait()
            counts.append(service.send_due(AFTER))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 4]
    with app.app_context():
        recipients = db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == MessageKind.FOLLOW_UP)
        ).all()
        assert sorted(recipients) == [
            "ana@example.org",
            "ben@example.org",
            "cai@example.org",
            "dee@example.org",
        ]
        assert db.session.scalar(select(FollowUp.recipients)) == 4


def test_who_asked_for_no_more_gets_nothing(app, organiser, meeting, make_event, smtp):
    other = make_event(slug="another-meeting")
    now = datetime.now(UTC)
    with app.app_context():
        stop = mail.unsubscribe
        stop(mail.address_hash("ana@example.org"), MessageKind.FOLLOW_UP, now, meeting.event_id)
        stop(mail.address_hash("ben@example.org"), MessageKind.ANNOUNCEMENT, now)
        stop(mail.address_hash("cai@example.org"), MessageKind.FOLLOW_UP, now, other.id)
    save(organiser, meeting)
    assert send_due(app, AFTER) == 2
    deliver(app, AFTER)
    assert sorted(subjects(smtp)) == ["cai@example.org", "dee@example.org"]
    assert "Sent to 2 people" in text_of(organiser.get(PATH))


def test_the_unsubscribe_link_stops_that_events_follow_ups(app, organiser, meeting, smtp):
    save(organiser, meeting)
    send_due(app, AFTER)
    deliver(app, AFTER)
    link = smtp.to("dee@example.org")[0]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://events.example.org")
    assert "follow-ups after this meeting" in text_of(organiser.get(path))
    organiser.post(path)
    with app.app_context():
        assert mail.is_unsubscribed("dee@example.org", MessageKind.FOLLOW_UP, meeting.event_id)
        assert not mail.is_unsubscribed("dee@example.org", MessageKind.FOLLOW_UP)


def test_edited_after_sending_it_does_not_go_again(app, organiser, meeting, smtp):
    save(organiser, meeting)
    send_due(app, AFTER)
    edited = save(organiser, meeting, attended_subject="Thanks again", send_at="2027-04-21T09:00")
    assert edited.status_code == 302
    assert "Changes made now are not sent again." in text_of(organiser.get(PATH))
    assert send_due(app, AFTER + timedelta(days=2)) == 0
    deliver(app, AFTER + timedelta(days=2))
    assert len(smtp.messages) == 4


def test_not_for_a_cancelled_event(app, organiser, meeting, make_event):
    save(organiser, meeting)
    make_event(status="cancelled")
    assert send_due(app, AFTER) == 0
    assert "The event is cancelled: the follow-up will not be sent." in text_of(organiser.get(PATH))


def test_not_once_retention_removed_the_attendees_data(app, organiser, meeting):
    save(organiser, meeting)
    much_later = ENDS + timedelta(days=91)
    with app.app_context():
        assert [event.slug for event in apply_retention(much_later)] == ["solidarity-meeting"]
    assert send_due(app, much_later) == 0
    page = text_of(organiser.get(PATH))
    assert "The attendees' personal data has been removed" in page


def test_an_event_moved_later_waits_for_its_new_end(app, organiser, meeting, make_event):
    save(organiser, meeting)
    make_event(
        starts_at=datetime(2027, 4, 22, 18, 30, tzinfo=LONDON).isoformat(),
        ends_at=datetime(2027, 4, 22, 20, 0, tzinfo=LONDON).isoformat(),
    )
    assert send_due(app, AFTER) == 0
    assert send_due(app, datetime(2027, 4, 22, 20, 0, tzinfo=LONDON)) == 4


def test_preview_each_version_in_each_language(organiser, meeting):
    save(organiser, meeting)
    english = organiser.get(PATH).get_data(as_text=True)
    assert "<strong>wonderful</strong>" in english and "<script>alert" not in english
    assert "See the slides" in english and "Watch the recording" not in english
    spanish = text_of(organiser.get(f"{PATH}?version=missed&language=es"))
    assert "For those who did not attend, in Spanish" in spanish
    assert "Te echamos de menos" in spanish and "Aquí está la grabación." in spanish
    assert "Watch the recording" in spanish


def test_a_test_goes_to_the_organiser_alone(app, organiser, meeting, smtp):
    save(organiser, meeting)
    path = f"{PATH}/test"
    response = organiser.post(
        path,
        data={"csrf_token": csrf_token(organiser, PATH), "audience": "missed", "language": "es"},
    )
    assert response.status_code == 302
    assert "A test copy is on its way to organiser@example.org." in text_of(
        organiser.get(response.headers["Location"])
    )
    deliver(app)
    [test] = smtp.messages
    assert str(test["To"]) == "Olga <organiser@example.org>"
    assert test["Subject"] == "Te echamos de menos"
    assert "via=" not in test.get_body(("plain",)).get_content()  # no registrant's link
    with app.app_context():
        assert db.session.scalar(select(FollowUp.sent_at)) is None


def test_a_test_before_saving_is_refused(app, organiser, meeting):
    before = snapshot(app)
    response = organiser.post(
        f"{PATH}/test",
        data={"csrf_token": csrf_token(organiser, PATH), "audience": "attended", "language": "en"},
    )
    assert response.status_code == 302
    assert "Save the follow-up first" in text_of(organiser.get(PATH))
    assert snapshot(app) == before


def test_the_door_may_not_write_the_follow_up(app, client, meeting, make_organiser):
    from service.access import service as access
    from service.access.models import EventRole
    from tests.organisers.conftest import logged_in

    door = make_organiser("door@example.org")
    with app.app_context():
        access.grant_event_role(door.id, meeting.event_id, EventRole.DOOR)
    logged_in(client, door)
    assert client.get(PATH).status_code == 403


def test_flask_followups_send_due_and_show(app, organiser, meeting, make_event, runner):
    save(organiser, meeting)
    shown = runner.invoke(args=["followups", "show", "solidarity-meeting"])
    assert "will be sent Tuesday 20 April 2027, 09:00 BST (Europe/London)" in shown.output
    assert "attended: 2, did not attend: 2" in shown.output
    assert runner.invoke(args=["followups", "send-due"]).output == "queued 0 follow-up message(s)\n"

    ended = (datetime.now(UTC) - timedelta(days=1)).replace(second=0, microsecond=0)
    make_event(starts_at=(ended - timedelta(hours=1)).isoformat(), ends_at=ended.isoformat())
    save(organiser, meeting, send_at=ended.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M"))
    assert runner.invoke(args=["followups", "send-due"]).output == "queued 4 follow-up message(s)\n"
    assert "sent " in runner.invoke(args=["followups", "show", "solidarity-meeting"]).output
    assert runner.invoke(args=["followups", "show", "nowhere"]).exit_code != 0
