"""CSV export of attendees, from the attendee page and with ``flask events export``.

Every file is read back with Python's csv module, as a spreadsheet would read it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import click._termui_impl
import pytest
from defusedcsv import csv as defusedcsv
from flask import request_finished
from sqlalchemy import select

from service.csv_export import ExportRecord, defuse
from service.events.models import Question, QuestionKind
from service.extensions import db
from service.registration.export import COLUMN_NAMES
from service.registration.models import Answer, JoinClick, Registration, RegistrationStatus
from tests.events.test_pages import text_of
from tests.organisers.conftest import csrf_token, logged_in

SLUG = "solidarity-meeting"
ATTENDEES = f"/organisers/events/{SLUG}/attendees"
EXPORT = f"/organisers/events/{SLUG}/export.csv"
BOM = b"\xef\xbb\xbf"
WINTER = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)  # GMT in London
SUMMER = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)  # BST in London
EXPECTED_HEADER = [
    "name",
    "email",
    "organisation",
    "status",
    "registered_at",
    "language",
    "keep_informed",
    "keep_informed_at",
    "checked_in",
    "checked_in_at",
    "joined",
    "cancelled_at",
    "follows_language",
    "needs_interpretation",
    "mode",
    "attended",
]

# What a spreadsheet would run as a formula, and what the export must write instead.
# defusedcsv covers = + - @ | % (and escapes | as \|); the app adds tab, CR and LF (OWASP).
FORMULAS = {
    "=1+1": "'=1+1",
    "+SUM(A1)": "'+SUM(A1)",
    "-2+3": "'-2+3",
    "@cmd": "'@cmd",
    '=HYPERLINK("http://evil.example","x")': '\'=HYPERLINK("http://evil.example","x")',
    "%0A": "'%0A",
    "|calc": "'\\|calc",
    "\tcmd": "'\tcmd",
    "\r=cmd": "'\r=cmd",
    "\n=cmd": "'\n=cmd",
}
# A plain number is left alone by defusedcsv, minus sign and all: a spreadsheet reads -2 as
# the number -2, which runs nothing. Documented here so a change either way is noticed.
PLAIN_NUMBERS = ["-2", "-2.5", "1,000"]
OWASP_STARTS = frozenset("=+-@|%\t\r\n")
PLAIN_NUMBER = re.compile(r"-?[0-9,.]+")


def read_csv(data: bytes, *, bom: bool = False) -> list[list[str]]:
    if bom:
        assert data.startswith(BOM), data[:10]
        data = data[len(BOM) :]
    else:
        assert not data.startswith(BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def export(client, *, columns=COLUMN_NAMES, bom=False, slug=SLUG, **options):
    token = csrf_token(client, f"/organisers/events/{slug}/attendees")
    data = {"csrf_token": token, "columns": list(columns)}
    if bom:
        data["bom"] = "y"
    return client.post(f"/organisers/events/{slug}/export.csv", data=data, **options)


def records(app) -> list[ExportRecord]:
    with app.app_context():
        found = list(db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)))
        db.session.expunge_all()
        return found


def add(app, event_id: int, *people: dict) -> list[int]:
    with app.app_context():
        rows = [
            Registration(
                event_id=event_id,
                name=person.get("name", "Somebody"),
                email=person["email"],
                created_at=person.get("created_at", SUMMER),
                **{k: v for k, v in person.items() if k not in ("name", "email", "created_at")},
            )
            for person in people
        ]
        db.session.add_all(rows)
        db.session.flush()
        ids = [row.id for row in rows]  # read before the commit expires them: no reload each
        db.session.commit()
        return ids


@pytest.fixture
def event(make_event):
    return make_event()


@pytest.fixture
def attendees(app, event):
    """One of each status, one checked in, one who joined online, one who cancelled."""
    ids = add(
        app,
        event.id,
        {
            "name": "Ana Flores",
            "email": "ana@example.org",
            "organisation": "Unite",
            "created_at": WINTER,
            "keep_informed": True,
            "keep_informed_at": WINTER,
            "checked_in_at": SUMMER + timedelta(hours=2),
        },
        {"name": "Luis Arce", "email": "luis@example.org", "status": RegistrationStatus.WAITING},
        {
            "name": "Eva Copa",
            "email": "eva@example.org",
            "status": RegistrationStatus.CANCELLED,
            "cancelled_at": SUMMER + timedelta(days=1),
            "language": "es",
        },
    )
    with app.app_context():
        db.session.add(JoinClick(registration_id=ids[0], clicked_at=SUMMER))
        db.session.commit()
    return ids


# --- The web export ----------------------------------------------------------------------------


def test_every_column_with_local_times(app, client, organiser, event, attendees):
    logged_in(client, organiser)
    response = export(client)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    header, *rows = read_csv(response.get_data())
    assert header == EXPECTED_HEADER
    assert {"name", "email", "organisation", "status", "registered_at", "checked_in"} <= set(header)
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert [row[0] for row in rows] == ["Ana Flores", "Luis Arce", "Eva Copa"]  # signing-up order

    ana = by_name["Ana Flores"]
    assert ana["email"] == "ana@example.org"
    assert ana["organisation"] == "Unite"
    assert ana["status"] == "registered"
    assert ana["registered_at"] == "2027-01-15T12:00:00+00:00"  # GMT
    assert ana["keep_informed"] == "yes"
    assert ana["keep_informed_at"] == "2027-01-15T12:00:00+00:00"
    assert ana["checked_in"] == "yes"
    assert ana["checked_in_at"] == "2027-04-01T15:00:00+01:00"  # BST
    assert ana["joined"] == "yes"
    assert ana["cancelled_at"] == ""

    luis = by_name["Luis Arce"]
    assert luis["status"] == "waiting"
    assert luis["registered_at"] == "2027-04-01T13:00:00+01:00"
    assert (luis["checked_in"], luis["checked_in_at"], luis["joined"]) == ("no", "", "no")
    assert luis["keep_informed"] == "no"

    eva = by_name["Eva Copa"]
    assert eva["status"] == "cancelled"
    assert eva["cancelled_at"] == "2027-04-02T13:00:00+01:00"
    assert eva["language"] == "es"

    assert {row["status"] for row in by_name.values()} == {"registered", "waiting", "cancelled"}


def test_times_are_in_the_events_own_zone(app, client, organiser, make_event):
    la_paz = make_event(slug="la-paz-meeting", timezone="America/La_Paz")
    add(app, la_paz.id, {"email": "ana@example.org", "created_at": SUMMER})
    logged_in(client, organiser)
    header, row = read_csv(
        export(client, slug="la-paz-meeting", columns=["registered_at"]).get_data()
    )
    assert header == ["registered_at"]
    assert row == ["2027-04-01T08:00:00-04:00"]
    parsed = datetime.fromisoformat(row[0])
    assert parsed == SUMMER and parsed.utcoffset() == timedelta(hours=-4)


def test_formulas_are_neutralised(app, client, organiser, event):
    people = [
        {"name": value, "organisation": value, "email": f"f{n}@example.org"}
        for n, value in enumerate([*FORMULAS, *PLAIN_NUMBERS])
    ]
    add(app, event.id, *people)
    logged_in(client, organiser)
    header, *rows = read_csv(export(client, columns=["name", "organisation"]).get_data())
    assert header == ["name", "organisation"]
    written = [tuple(row) for row in rows]
    assert written == [(safe, safe) for safe in FORMULAS.values()] + [
        (number, number) for number in PLAIN_NUMBERS
    ]
    for name, _organisation in written[: len(FORMULAS)]:
        assert name.startswith("'")


def test_no_cell_written_starts_a_formula_whatever_its_first_character():
    """Over every first character: a cell of typed text, written as the export writes it
    (``defuse``, then defusedcsv's writer), reads back as it was typed, or behind a ``'`` when
    it starts with a character OWASP lists; plain numbers are left alone."""
    wrong = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not text
            continue
        for tail in ("", "x", "1", "=1", "\tx"):
            value = chr(code) + tail
            buffer = io.StringIO()
            defusedcsv.writer(buffer).writerow([defuse(value)])
            [[written]] = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
            risky = value[0] in OWASP_STARTS and not PLAIN_NUMBER.fullmatch(value)
            if written != (("'" + value.replace("|", "\\|")) if risky else value):
                wrong.append((value, written))
    assert wrong == []
    assert defuse(None) is None and defuse("") == ""


def add_question(app, event_id: int, label: str, kind=QuestionKind.SHORT_TEXT) -> int:
    with app.app_context():
        question = Question(event_id=event_id, position=1, kind=kind, label=label)
        db.session.add(question)
        db.session.commit()
        return question.id


def answer(app, registration_id: int, question_id: int, value: str) -> None:
    with app.app_context():
        db.session.add(
            Answer(registration_id=registration_id, question_id=question_id, value=value)
        )
        db.session.commit()


def test_answers_and_emails_are_neutralised_and_missing_answers_empty(
    app, client, organiser, event
):
    union = add_question(app, event.id, "Which union?")
    captions = add_question(app, event.id, "Captions?", QuestionKind.CHECKBOX)
    first, second = add(app, event.id, {"email": "=1+1@example.org"}, {"email": "b@example.org"})
    answer(app, first, union, "@SUM(A1)")
    answer(app, second, captions, "yes")
    logged_in(client, organiser)
    columns = ["email", f"q{union}: Which union?", f"q{captions}: Captions?"]
    header, *rows = read_csv(export(client, columns=columns).get_data())
    assert header == columns
    assert rows == [["'=1+1@example.org", "'@SUM(A1)", ""], ["b@example.org", "", "yes"]]


def test_seventy_questions_export_past_sqlites_limit_of_64_joined_tables(
    app, client, organiser, event
):
    """Answers to the first questions are joined, the rest come by subquery, in one order."""
    with app.app_context():
        questions = [
            Question(event_id=event.id, position=n, kind=QuestionKind.SHORT_TEXT, label=f"Q{n}")
            for n in range(70)
        ]
        db.session.add_all(questions)
        db.session.commit()
        ids = [question.id for question in questions]
    first, _second = add(app, event.id, {"email": "a@example.org"}, {"email": "b@example.org"})
    for n in (0, 49, 50, 69):
        answer(app, first, ids[n], f"={n}")
    logged_in(client, organiser)
    header, *rows = read_csv(
        export(client, columns=[f"q{i}: Q{n}" for n, i in enumerate(ids)]).get_data()
    )
    assert header == [f"q{i}: Q{n}" for n, i in enumerate(ids)]
    assert rows == [
        [f"'={n}" if n in (0, 49, 50, 69) else "" for n in range(70)],
        [""] * 70,
    ]


def test_the_whole_file_byte_for_byte(app, client, organiser, event, attendees):
    """Every byte of one export: a faster export must write the same file. Times are cut (not
    rounded) to the second, in the event's zone."""
    union = add_question(app, event.id, "=Union, if any")
    [late] = add(
        app,
        event.id,
        {
            "name": "\tTab",
            "email": "late@example.org",
            "organisation": 'Say "hi"',
            "created_at": SUMMER + timedelta(microseconds=999_999),
            "checked_in_at": WINTER + timedelta(seconds=59, microseconds=500_000),
        },
    )
    answer(app, attendees[0], union, "-1+2")
    answer(app, late, union, "Unite\nthe union")
    logged_in(client, organiser)
    assert export(
        client, bom=True, columns=[*COLUMN_NAMES, f"q{union}: =Union, if any"]
    ).get_data() == (
        BOM
        + b"name,email,organisation,status,registered_at,language,keep_informed,keep_informed_at,"
        b"checked_in,checked_in_at,joined,cancelled_at,follows_language,needs_interpretation,"
        b'mode,attended,"q%d: =Union, if any"\r\n'
        b"Ana Flores,ana@example.org,Unite,registered,2027-01-15T12:00:00+00:00,en,yes,"
        b"2027-01-15T12:00:00+00:00,yes,2027-04-01T15:00:00+01:00,yes,,,no,online,yes,'-1+2\r\n"
        b"Luis Arce,luis@example.org,,waiting,2027-04-01T13:00:00+01:00,en,no,,no,,no,,,no,"
        b"online,no,\r\n"
        b"Eva Copa,eva@example.org,,cancelled,2027-04-01T13:00:00+01:00,es,no,,no,,no,"
        b"2027-04-02T13:00:00+01:00,,no,online,no,\r\n"
        b'\'\tTab,late@example.org,"Say ""hi""",registered,2027-04-01T13:00:00+01:00,en,no,,yes,'
        b'2027-01-15T12:00:59+00:00,no,,,no,online,yes,"Unite\nthe union"\r\n' % union
    )


def test_unicode_round_trips(app, client, organiser, event):
    names = ["Añez", "Choquehuanca", "Quispe", "🌹", "Wara Ñusta 🌹 Mamani"]
    add(
        app,
        event.id,
        *[
            {"name": name, "organisation": f"Sindicato «{name}»", "email": f"u{n}@example.org"}
            for n, name in enumerate(names)
        ],
    )
    logged_in(client, organiser)
    for bom in (False, True):
        data = export(client, columns=["name", "organisation"], bom=bom).get_data()
        _header, *rows = read_csv(data, bom=bom)
        assert rows == [[name, f"Sindicato «{name}»"] for name in names]
        # Excel-style reading: utf-8-sig takes the mark off, and the header comes out clean.
        if bom:
            text = data.decode("utf-8-sig")
            assert next(csv.reader(io.StringIO(text, newline=""))) == ["name", "organisation"]


def test_for_excel_starts_with_a_byte_order_mark(app, client, organiser, event, attendees):
    logged_in(client, organiser)
    with_bom = export(client, bom=True).get_data()
    without = export(client).get_data()
    assert with_bom.startswith(BOM) and with_bom.count(BOM) == 1
    assert with_bom[len(BOM) :].startswith(b"name,email,")
    assert not without.startswith(BOM)
    assert read_csv(with_bom, bom=True) == read_csv(without)


def test_only_ticked_columns(app, client, organiser, event, attendees):
    logged_in(client, organiser)
    header, *rows = read_csv(export(client, columns=["status", "name"]).get_data())
    assert header == ["name", "status"]  # in the standard order, whatever the form's order
    assert rows == [
        ["Ana Flores", "registered"],
        ["Luis Arce", "waiting"],
        ["Eva Copa", "cancelled"],
    ]
    body = export(client, columns=["status", "checked_in"]).get_data(as_text=True)
    assert "ana@example.org" not in body and "Ana Flores" not in body
    assert records(app)[0].columns == ["name", "status"]


def test_each_export_is_recorded_with_who_what_and_how_many(
    app, client, organiser, event, attendees
):
    logged_in(client, organiser)
    export(client, columns=["name", "email"]).get_data()
    [record] = records(app)
    assert record.organiser_id == organiser.id
    assert record.event_id == event.id
    assert record.rows == 3
    assert record.via == "web"
    assert record.columns == ["name", "email"]
    assert record.created_at is not None
    dashboard = text_of(client.get("/organisers/"))  # the recent exports list
    assert "3 rows" in dashboard and "rosa@example.org" in dashboard


def test_the_export_is_streamed(app, client, organiser, event):
    """Rows go out in chunks while the query runs; the record is written at the end."""
    add(app, event.id, *[{"email": f"p{n:04d}@example.org"} for n in range(2500)])
    logged_in(client, organiser)
    streamed = []

    def seen(sender, response, **extra):
        streamed.append(response.is_streamed)

    before = datetime.now(ZoneInfo("Europe/London")).date()
    with request_finished.connected_to(seen, app):
        response = export(client, columns=["email"], buffered=False)
    after = datetime.now(ZoneInfo("Europe/London")).date()
    with response:
        assert streamed[-1] is True  # the view's own Response, not the test client's wrapper
        assert response.is_streamed
        assert response.headers["Cache-Control"] == "no-store"
        assert "Content-Length" not in response.headers
        disposition = response.headers["Content-Disposition"]
        assert disposition in {
            f'attachment; filename="{SLUG}-attendees-{day:%Y-%m-%d}.csv"' for day in (before, after)
        }
        chunks = iter(response.response)
        first = next(chunks)
        assert first.startswith(b"email\r\n")
        assert records(app) == []  # nothing recorded until the last row is out
        rest = list(chunks)
    assert len(rest) >= 2  # 1000 rows a chunk
    rows = read_csv(first + b"".join(rest))
    assert len(rows) == 2501
    assert records(app)[0].rows == 2500


def test_no_columns_ticked_records_nothing(app, client, organiser, event, attendees):
    logged_in(client, organiser)
    token = csrf_token(client, ATTENDEES)
    response = client.post(EXPORT, data={"csrf_token": token, "bom": "y"})
    assert response.status_code == 302
    assert response.location == ATTENDEES
    assert "Tick at least one column to export." in text_of(client.get(ATTENDEES))
    unknown = client.post(EXPORT, data={"csrf_token": token, "columns": ["password_hash"]})
    assert unknown.status_code == 302
    assert records(app) == []


def test_export_of_a_missing_event_is_not_found(client, organiser, event):
    logged_in(client, organiser)
    token = csrf_token(client, ATTENDEES)
    response = client.post(
        "/organisers/events/no-such-event/export.csv", data={"csrf_token": token, "columns": "name"}
    )
    assert response.status_code == 404


def test_only_this_events_attendees(app, client, organiser, event, attendees, make_event):
    other = make_event(slug="other-meeting")
    add(app, other.id, {"name": "Someone Else", "email": "else@example.org"})
    logged_in(client, organiser)
    body = export(client, columns=["name"]).get_data(as_text=True)
    assert "Someone Else" not in body


def test_an_event_nobody_registered_for_exports_its_header(app, client, organiser, event):
    logged_in(client, organiser)
    assert export(client, columns=["name", "email"], bom=True).get_data() == (
        BOM + b"name,email\r\n"
    )
    assert records(app)[0].rows == 0


# --- flask events export -----------------------------------------------------------------------


def test_cli_export_to_a_file(app, runner, event, attendees, tmp_path):
    target = tmp_path / "attendees.csv"
    result = runner.invoke(args=["events", "export", SLUG, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"exporting {SLUG}" in result.stderr
    assert "exported 3 row(s)" in result.stderr
    assert result.stdout == ""
    header, *rows = read_csv(target.read_bytes())
    assert header == EXPECTED_HEADER
    assert [row[3] for row in rows] == ["registered", "waiting", "cancelled"]
    assert rows[0][4] == "2027-01-15T12:00:00+00:00"
    [record] = records(app)
    assert (record.organiser_id, record.event_id, record.rows, record.via) == (
        None,
        event.id,
        3,
        "cli",
    )
    assert record.columns == EXPECTED_HEADER


def test_cli_export_columns_and_bom(app, runner, event, tmp_path):
    names = ["Añez", "Choquehuanca", "Quispe", "🌹", *FORMULAS]
    add(
        app,
        event.id,
        *[{"name": name, "email": f"c{n}@example.org"} for n, name in enumerate(names)],
    )
    target = tmp_path / "names.csv"
    result = runner.invoke(
        args=["events", "export", SLUG, "-o", str(target), "--columns", "name,email", "--bom"]
    )
    assert result.exit_code == 0, result.output
    header, *rows = read_csv(target.read_bytes(), bom=True)
    assert header == ["name", "email"]
    assert [row[0] for row in rows] == ["Añez", "Choquehuanca", "Quispe", "🌹", *FORMULAS.values()]
    assert records(app)[0].columns == ["name", "email"]
    assert records(app)[0].rows == len(names)


def test_cli_export_to_standard_output(runner, event, attendees):
    result = runner.invoke(args=["events", "export", SLUG, "--columns", "email"])
    assert result.exit_code == 0, result.output
    assert read_csv(result.stdout_bytes) == [
        ["email"],
        ["ana@example.org"],
        ["luis@example.org"],
        ["eva@example.org"],
    ]


def test_cli_progress_bar_on_a_terminal(runner, event, attendees, tmp_path, monkeypatch):
    """On a terminal the bar is drawn; elsewhere click prints its label once (tested above)."""
    monkeypatch.setattr(click._termui_impl, "isatty", lambda stream: True)
    result = runner.invoke(args=["events", "export", SLUG, "-o", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    assert f"exporting {SLUG}" in result.stderr
    assert "100%" in result.stderr
    assert "[####" in result.stderr
    assert result.stderr.rstrip().endswith("exported 3 row(s)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["events", "export", "no-such-event"], "no event with slug 'no-such-event'"),
        (["events", "export", SLUG, "--columns", "name,password"], "unknown column(s): password"),
    ],
)
def test_cli_export_refuses_clearly(app, runner, event, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output
    assert records(app) == []


def test_an_export_stopped_part_way_is_still_recorded(app, client, organiser, event):
    add(app, event.id, *[{"email": f"p{n:04d}@example.org"} for n in range(2500)])
    logged_in(client, organiser)
    response = export(client, columns=["email"], buffered=False)
    with response:
        first = next(iter(response.response))
    assert b"p0000@example.org" in first  # personal data went out
    assert len(records(app)) == 1
