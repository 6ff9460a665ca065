"""The public list: who is listed and counted, in which order, page by page, and search."""

from __future__ import annotations

import re

import pytest

from service.extensions import db
from service.statements import service
from service.statements.models import Signature, SignatureStatus
from tests.events.test_pages import text_of
from tests.registration.fixtures import csrf_token
from tests.statements.fixtures import PATH, deliver, link, sign


def listed_names(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<li(?: class="featured")?><strong>([^<]*)</strong>', html)


def set_status(app, signature_id: int, status: SignatureStatus) -> None:
    """Put a signature in a state directly, then count again as after a bulk import."""
    with app.app_context():
        signature = db.session.get(Signature, signature_id)
        signature.status = status
        db.session.commit()
        service.recount(signature.statement_id)


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
        service.moderate(statement.id, ids[3], service.ModerationAction.FEATURE)
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


def test_search_pages_carry_the_search(app, client, statement, add_signatories):
    add_signatories(statement.id, [f"Ana Number{n}" for n in range(60)] + ["Bea Other"])
    page = client.get(PATH, query_string={"q": "ana"})
    assert "60 names match “ana”." in text_of(page)
    assert 'href="/statements/solidarity-with-bolivia?page=2&amp;q=ana#signatories"' in (
        page.get_data(as_text=True)
    )


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
            service.moderate(statement.id, signature_id, service.ModerationAction.FEATURE)
    rest = [
        name for name in reversed(names) if name not in {"Person 010", "Person 011", "Person 012"}
    ]
    first = listed_names(client.get(PATH))
    assert first == ["Person 012", "Person 011", "Person 010", *rest[:47]]
    assert listed_names(client.get(PATH + "?page=2")) == rest[47:]
    by_name = listed_names(client.get(PATH + "?order=name"))
    assert by_name[:4] == ["Person 010", "Person 011", "Person 012", "Person 000"]


def test_big_counts_are_written_the_way_each_language_groups_digits(
    app, client, make_statement, add_signatories
):
    statement = make_statement(target_count=100_000)
    add_signatories(statement.id, [f"Person {number}" for number in range(1_234)])
    english = text_of(client.get(PATH))
    assert "1,234 people have signed" in english and "target of 100,000" in english
    client.set_cookie("convoca_lang", "es")
    spanish = text_of(client.get(PATH))
    assert "1.234 personas han firmado" in spanish
    assert "objetivo de 100.000" in spanish
