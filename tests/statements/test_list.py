"""The public list: who is listed and counted, in which order, page by page, and search."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from service.extensions import db
from service.statements import moderation, service
from service.statements.models import Signature, SignatureStatus
from tests.events.test_pages import text_of
from tests.registration.fixtures import csrf_token
from tests.statements.fixtures import FIRST_SIGNED, PATH, deliver, link, sign


def listed_names(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<li(?: class="featured")?><strong>([^<]*)</strong>', html)


def next_link(response) -> str:
    """The pager's "Next" address, unescaped."""
    found = re.search(r'rel="next" href="([^"]*)"', response.get_data(as_text=True))
    return html.unescape(found.group(1)).removesuffix("#signatories")


def set_status(app, signature_id: int, status: SignatureStatus) -> None:
    """Put a signature in a state directly, then count again as after a bulk import."""
    with app.app_context():
        signature = db.session.get(Signature, signature_id)
        signature.status = status
        db.session.commit()
        service.recount(signature.statement_id)


def approve_in_bulk(app, statement_id: int, names: list[str]) -> None:
    """Approved, listed signatures in one transaction, then counted as after a bulk import:
    quicker than one unit of work each when only the count is looked at."""
    with app.app_context():
        db.session.add_all(
            Signature(
                statement_id=statement_id,
                name=name,
                sort_key=name.lower(),
                email=f"signer{number}@example.org",
                show_name=True,
                status=SignatureStatus.APPROVED,
                created_at=FIRST_SIGNED,
                confirmed_at=FIRST_SIGNED + timedelta(minutes=number),
            )
            for number, name in enumerate(names)
        )
        db.session.commit()
        service.recount(statement_id)


def test_only_approved_signatures_count_and_only_consenting_ones_are_listed(
    app, client, statement, add_signatories
):
    _approved, hidden, waiting, unconfirmed = add_signatories(
        statement.id, ["Approved Person", "Hidden Person", "Waiting Person", "Unconfirmed Person"]
    )
    add_signatories(statement.id, ["Private Person"], show_name=False)
    set_status(app, hidden, SignatureStatus.HIDDEN)
    set_status(app, waiting, SignatureStatus.AWAITING_APPROVAL)
    set_status(app, unconfirmed, SignatureStatus.UNCONFIRMED)

    response = client.get(PATH)
    assert listed_names(response) == ["Approved Person"]
    assert "2 people have signed" in text_of(response)  # approved, and the private one
    data = client.get("/api/statements/solidarity-with-bolivia").get_json()
    assert data["count"] == 2
    assert [person["name"] for person in data["signatories"]] == ["Approved Person"]
    assert "email" not in data["signatories"][0]
    assert "1 signature" not in text_of(client.get("/statements"))
    assert "2 signatures" in text_of(client.get("/statements"))


def test_featured_first_then_newest_or_a_to_z(app, client, statement, add_signatories):
    ids = add_signatories(
        statement.id, ["Carla Quispe", "Ángel Mamani", "Beatriz Choque", "Zoe Ward"]
    )
    with app.app_context():
        moderation.moderate(statement.id, ids[3], moderation.ModerationAction.FEATURE)
    assert listed_names(client.get(PATH)) == [
        "Zoe Ward",
        "Beatriz Choque",
        "Ángel Mamani",
        "Carla Quispe",
    ]
    assert listed_names(client.get(PATH + "?order=name")) == [
        "Zoe Ward",
        "Ángel Mamani",  # accents do not push a name to the end
        "Beatriz Choque",
        "Carla Quispe",
    ]
    assert 'class="featured"><strong>Zoe Ward' in client.get(PATH).get_data(as_text=True)


def test_fifty_a_page(app, client, statement, add_signatories):
    add_signatories(statement.id, [f"Person {number:03d}" for number in range(120)])
    first = client.get(PATH)
    assert listed_names(first)[:2] == ["Person 119", "Person 118"]
    assert len(listed_names(first)) == 50
    assert "Page 1 of 3" in text_of(first)
    third = client.get(PATH + "?page=3")
    assert listed_names(third) == [f"Person {number:03d}" for number in range(19, -1, -1)]
    assert 'rel="prev" href="/statements/solidarity-with-bolivia?page=2#signatories"' in (
        third.get_data(as_text=True)
    )
    assert listed_names(client.get(PATH + "?page=4")) == []
    assert client.get(PATH + "?page=0").status_code == 404
    assert client.get(PATH + "?page=99999999999999999999").status_code == 404
    assert client.get(PATH + "?order=sideways").status_code == 200


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("quispe", ["Carla Quispe", "Juan Quispe Mamani"]),
        ("QUIS", ["Carla Quispe", "Juan Quispe Mamani"]),
        ("anez", ["María Añez"]),  # accents and case do not matter
        ("quispe mam", ["Juan Quispe Mamani"]),  # every word must match the start of one
        ("uispe", []),  # a word's start, as people search for names
        ("%", []),
        ("Ward 🌹", ["Zoe Ward"]),  # what is not a letter is left out
    ],
)
def test_search_by_name(app, client, statement, add_signatories, search, expected):
    add_signatories(statement.id, ["Juan Quispe Mamani", "Carla Quispe", "María Añez", "Zoe Ward"])
    response = client.get(PATH, query_string={"q": search})
    assert response.status_code == 200
    assert sorted(listed_names(response)) == expected


def test_a_search_follows_moderation_and_counts_each_name_once(
    app, client, statement, add_signatories
):
    ids = add_signatories(statement.id, ["Ana Anaya", "Ana Flores", "Bea Ana", "Ana Hidden"])
    with app.app_context():
        moderation.moderate(statement.id, ids[2], moderation.ModerationAction.FEATURE)
        moderation.moderate(statement.id, ids[3], moderation.ModerationAction.HIDE)
    page = client.get(PATH, query_string={"q": "ana"})
    assert listed_names(page) == ["Bea Ana", "Ana Flores", "Ana Anaya"]  # "Ana Anaya" once
    assert "3 names match “ana”." in text_of(page)
    assert listed_names(client.get(PATH, query_string={"q": "ana", "order": "name"})) == [
        "Bea Ana",
        "Ana Anaya",
        "Ana Flores",
    ]
    set_status(app, ids[1], SignatureStatus.HIDDEN)  # a bulk change, then a recount
    assert listed_names(client.get(PATH, query_string={"q": "ana"})) == ["Bea Ana", "Ana Anaya"]


def test_search_pages_carry_the_search(app, client, statement, add_signatories):
    add_signatories(statement.id, [f"Ana Number{n}" for n in range(60)] + ["Bea Other"])
    page = client.get(PATH, query_string={"q": "ana"})
    assert "60 names match “ana”." in text_of(page)
    following = next_link(page)
    assert "q=ana" in following and "after=" in following
    second = client.get(following)
    assert len(listed_names(second)) == 10 and "Bea Other" not in listed_names(second)
    assert "Page 2 of 2" in text_of(second)


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_every_field_is_inert(app, client, smtp, statement):
    sign(
        client,
        name=f"Eve {XSS}",
        email="eve@example.org",
        affiliation=XSS,
        town=XSS,
        country=XSS,
    )
    deliver(app)
    confirm_path = link(smtp.to("eve@example.org")[0], "confirm")
    client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    html_email = smtp.to("eve@example.org")[0].get_body(("html",)).get_content()
    for page in (
        client.get(PATH).get_data(as_text=True),
        client.get(PATH, query_string={"q": XSS}).get_data(as_text=True),
        client.get(confirm_path).get_data(as_text=True),
        html_email,
    ):
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;" in client.get(PATH).get_data(as_text=True)
    assert (
        client.get("/api/statements/solidarity-with-bolivia").get_json()["signatories"][0]["town"]
        == XSS
    )  # data in JSON, never markup


def test_statement_markdown_is_sanitised(client, make_statement):
    make_statement(body="Hello <script>alert(1)</script> [x](javascript:alert(1)) **bold**")
    html = client.get(PATH).get_data(as_text=True)
    assert "<script>alert(1)" not in html and 'href="javascript:' not in html
    assert "<strong>bold</strong>" in html


def test_api_pages_and_cors(app, client, statement, add_signatories):
    add_signatories(statement.id, [f"Person {n}" for n in range(3)])
    response = client.get("/api/statements/solidarity-with-bolivia")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert data["count"] == 3 and data["listed"] == 3
    assert data["signatories"][0]["name"] == "Person 2"
    assert (
        client.get("/api/statements/solidarity-with-bolivia?page=2").get_json()["signatories"] == []
    )
    assert client.get("/api/statements/nothing-here").status_code == 404


def test_nul_bytes_in_the_address_are_refused_cleanly(client, statement):
    assert client.get(PATH + "?q=a%00b").status_code == 400
    assert client.get("/statements/a%00b").status_code == 404


def test_pages_continue_across_the_featured_names(app, client, statement, add_signatories):
    names = [f"Person {number:03d}" for number in range(60)]
    ids = add_signatories(statement.id, names)
    with app.app_context():
        for signature_id in ids[10:13]:  # Person 010, 011, 012
            moderation.moderate(statement.id, signature_id, moderation.ModerationAction.FEATURE)
    rest = [
        name for name in reversed(names) if name not in {"Person 010", "Person 011", "Person 012"}
    ]
    first = listed_names(client.get(PATH))
    assert first == ["Person 012", "Person 011", "Person 010", *rest[:47]]
    assert listed_names(client.get(PATH + "?page=2")) == rest[47:]
    by_name = listed_names(client.get(PATH + "?order=name"))
    assert by_name[:4] == ["Person 010", "Person 011", "Person 012", "Person 000"]


def test_big_counts_are_written_the_way_each_language_groups_digits(app, client, make_statement):
    statement = make_statement(target_count=100_000)
    approve_in_bulk(app, statement.id, [f"Person {number}" for number in range(1_234)])
    english = text_of(client.get(PATH))
    assert "1,234 people have signed" in english and "target of 100,000" in english
    client.set_cookie("convoca_lang", "es")
    spanish = text_of(client.get(PATH))
    assert "1.234 personas han firmado" in spanish
    assert "objetivo de 100.000" in spanish


def test_next_pages_follow_the_cursor_and_page_numbers_stay_links(
    app, client, statement, add_signatories
):
    names = [f"Person {number:03d}" for number in range(160)]
    ids = add_signatories(statement.id, names)
    with app.app_context():
        moderation.moderate(statement.id, ids[5], moderation.ModerationAction.FEATURE)
    newest = ["Person 005", *(name for name in reversed(names) if name != "Person 005")]
    seen, response = [], client.get(PATH)
    for number in range(1, 5):
        assert f"Page {number} of 4" in text_of(response)
        seen += listed_names(response)
        if number < 4:
            assert "after=" in next_link(response)
            response = client.get(next_link(response))
    assert seen == newest
    assert 'rel="next"' not in response.get_data(as_text=True)
    assert 'rel="prev" href="/statements/solidarity-with-bolivia?page=3#signatories"' in (
        response.get_data(as_text=True)
    )
    for page in (2, 3, 4):  # a deep page by its number is the same page the cursor reached
        by_number = listed_names(client.get(PATH, query_string={"page": page}))
        assert by_number == newest[(page - 1) * 50 : page * 50]
    by_name = client.get(PATH, query_string={"order": "name", "page": 2})
    assert listed_names(by_name) == sorted(newest[1:])[49:99]
    following = client.get(next_link(by_name))
    assert "order=name" in next_link(by_name)
    assert listed_names(following) == sorted(newest[1:])[99:149]
    assert 'start="101"' in following.get_data(as_text=True)


def test_names_signed_meanwhile_do_not_repeat_on_the_next_page(
    app, client, statement, add_signatories
):
    add_signatories(statement.id, [f"Person {number:03d}" for number in range(60)])
    first = client.get(PATH)
    with app.app_context():
        signer = service.Signer("Late Comer", "late@example.org", show_name=True)
        service.add_confirmed_signature(
            statement.id, signer, "en", FIRST_SIGNED + timedelta(days=1)
        )
    second = listed_names(client.get(next_link(first)))
    assert second == [f"Person {number:03d}" for number in range(9, -1, -1)]


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "x" * 5000,
        "a\x00b",
        "WyJuZXdlc3QiLDIsMCwiMjAyNy0wMS0wMSIsMV0",  # a naive time
        "WyJuYW1lIiwyLDAsInBlcnNvbiIsMV0",  # the other order's
        "WyJuZXdlc3QiLDAsMCwiMjAyNy0wMS0wMVQwMDowMDowMCswMDowMCIsMV0",  # page 0
        "WyJuZXdlc3QiLDIsMCwiMjAyNy0wMS0wMVQwMDowMDowMCswMDowMCIsOTk5OTk5OTk5OTk5OTk5OTk5OTldCg",
        "W10",  # []
    ],
)
def test_a_cursor_that_is_not_ours_is_never_an_error(client, statement, add_signatories, cursor):
    add_signatories(statement.id, ["Ana Flores", "Zoe Ward"])
    response = client.get(PATH, query_string={"after": cursor})
    if "\x00" in cursor:
        assert response.status_code == 400  # refused before the page, as for any NUL byte
        return
    assert response.status_code == 200
    assert listed_names(response) == ["Zoe Ward", "Ana Flores"]  # page 1


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ñusta", ["Ñusta Quispe"]),
        ("NUSTA", ["Ñusta Quispe"]),
        ("quispe", ["José Quispe", "Ñusta Quispe"]),
        ("QUÍSPE", ["José Quispe", "Ñusta Quispe"]),
        ("jose", ["José Quispe"]),
        ("Gutiérrez", ["Ana Gutiérrez"]),
        ("gutierrez", ["Ana Gutiérrez"]),
    ],
)
def test_search_by_first_name_or_surname_ignores_accents_and_case(
    client, statement, add_signatories, search, expected
):
    add_signatories(statement.id, ["Ñusta Quispe", "José Quispe", "Ana Gutiérrez"])
    assert sorted(listed_names(client.get(PATH, query_string={"q": search}))) == expected
