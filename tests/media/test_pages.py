"""Images through the organisers' forms and the CLI, on the public pages and in share
previews; the site's look page (admins only), the home page's introduction and the logo."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from service.events import service as events
from service.extensions import db
from service.media.models import Image
from service.statements import service as statements
from tests.events.test_pages import text_of
from tests.media.conftest import photo_with_gps, picture
from tests.organisers.conftest import logged_in, snapshot
from tests.registration.fixtures import csrf_token

EDIT = "/organisers/events/solidarity-meeting/edit"
EVENT_FORM = {
    "title": "Solidarity meeting",
    "slug": "solidarity-meeting",
    "summary": "Speakers from La Paz",
    "timezone": "Europe/London",
    "starts_at": "2031-04-19T18:30",
    "ends_at": "2031-04-19T20:00",
    "format": "online",
    "attendee_reminder_offsets": "1d, 1h",
    "speaker_reminder_offsets": "2d, 2h",
    "speaker_arrival_minutes": "30",
    "people-0-role": "speaker",
    "people-1-role": "speaker",
}
SPANISH = {"Accept-Language": "es"}


def upload(data: bytes, name: str = "poster.jpg") -> FileStorage:
    return FileStorage(BytesIO(data), name)


def post_multipart(client, path, fields):
    """Post as a browser does, encoded in memory (the test client spools a large body to a
    temporary file it never closes)."""
    boundary, body = encode_multipart(fields)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def post_event(client, path=EDIT, **fields):
    return post_multipart(
        client, path, {"csrf_token": csrf_token(client, path), **EVENT_FORM, **fields}
    )


def stored_image(app, slug="solidarity-meeting") -> Image | None:
    with app.app_context():
        image = events.get_event(slug).image
        if image is not None:
            db.session.expunge(image)
        return image


@pytest.fixture
def event(make_event):
    return make_event(status="draft")


def test_an_organiser_uploads_an_image_with_its_alt_text(app, client, organiser, event):
    logged_in(client, organiser)
    form = client.get(EDIT).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    response = post_event(
        client,
        image=upload(photo_with_gps()),
        image_alt="People marching with a banner",
        image_alt_es="Gente marchando con una pancarta",
    )
    assert response.status_code == 302, text_of(response)
    image = stored_image(app)
    assert (image.alt, image.alt_es) == (
        "People marching with a banner",
        "Gente marchando con una pancarta",
    )
    assert image.widths == [480, 960, 1200]
    # The form shows the image now, and saving again without a file keeps it.
    assert "The image now" in text_of(client.get(EDIT))
    assert post_event(client, image_alt="A march").status_code == 302
    assert stored_image(app).id == image.id and stored_image(app).alt == "A march"


def test_a_bad_file_is_explained_and_nothing_typed_is_lost(app, client, organiser, event):
    logged_in(client, organiser)
    before = snapshot(app)
    response = post_event(
        client,
        title="A new title kept",
        summary="A summary kept",
        image=upload(b"%PDF-1.7 this is a document", "flyer.pdf"),
        image_alt="Flyer",
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "This is not a JPEG, PNG or WebP image." in page
    assert 'value="A new title kept"' in response.get_data(as_text=True)
    assert 'value="A summary kept"' in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_an_image_without_alt_text_is_refused(app, client, organiser, event):
    logged_in(client, organiser)
    before = snapshot(app)
    response = post_event(client, image=upload(picture()), image_alt="  ")
    assert response.status_code == 400
    assert "Describe the image in a few words (alt text)" in text_of(response)
    assert snapshot(app) == before


def test_the_image_can_be_removed(app, client, organiser, event):
    logged_in(client, organiser)
    post_event(client, image=upload(picture()), image_alt="Banner")
    assert stored_image(app) is not None
    assert post_event(client, image_remove="y").status_code == 302
    assert stored_image(app) is None


def test_an_upload_over_the_request_limit_gets_a_clear_page(app, client, organiser, event):
    logged_in(client, organiser)
    app.config["IMAGE_MAX_BYTES"] = 1024 * 1024  # the request may carry 2 MB
    response = post_event(client, image=upload(b"x" * (3 * 1024 * 1024)), image_alt="Big")
    assert response.status_code == 413
    assert "Images can be up to 1 MB" in text_of(response)


def test_an_upload_over_the_image_limit_keeps_the_form(app, client, organiser, event):
    logged_in(client, organiser)
    big = picture(1000, 1000, "PNG", compress_level=0)  # 3 MB: within the request's limit
    app.config["IMAGE_MAX_BYTES"] = len(big) - 1
    response = post_event(client, title="Kept", image=upload(big), image_alt="Big")
    assert response.status_code == 400
    assert "The image is larger than" in text_of(response)
    assert 'value="Kept"' in response.get_data(as_text=True)


def test_other_forms_keep_the_small_request_limit(client, event):
    response = client.post(
        "/events/solidarity-meeting/register",
        data={"name": "x" * (2 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert "What you sent is too large" in text_of(response)


def test_the_public_page_shows_the_image_and_shares_it(app, client, make_event, runner):
    make_event()
    poster = app.instance_path + "/poster.png"
    with open(poster, "wb") as file:
        file.write(picture(image_format="PNG"))
    result = runner.invoke(
        args=["events", "set-image", "solidarity-meeting", poster, "--alt", "Our poster"]
    )
    assert result.exit_code == 0, result.output
    image = stored_image(app)
    html = client.get("/events/solidarity-meeting").get_data(as_text=True)
    jpeg = f"https://events.example.org/media/{image.hash}-1600.jpg"
    assert f'<meta property="og:image" content="{jpeg}">' in html
    assert '<meta property="og:image:width" content="1600">' in html
    assert '<meta property="og:image:height" content="800">' in html
    assert '<meta property="og:image:alt" content="Our poster">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    [tag] = re.findall(r'<img class="event__image"[^>]*>', html)
    assert f"/media/{image.hash}-480.webp 480w" in tag and f"{image.hash}-1600.webp 1600w" in tag
    assert 'sizes="' in tag and 'width="1600"' in tag and 'height="800"' in tag
    assert 'alt="Our poster"' in tag
    with client.get(jpeg.removeprefix("https://events.example.org")) as shared:
        assert shared.status_code == 200 and shared.mimetype == "image/jpeg"
    listing = client.get("/").get_data(as_text=True)
    assert re.search(r'<img class="event-card__image"[^>]*alt="Our poster"', listing)


def test_without_an_image_the_card_stays_a_summary(client, make_event):
    make_event()
    html = client.get("/events/solidarity-meeting").get_data(as_text=True)
    assert "og:image" not in html and '<meta name="twitter:card" content="summary">' in html


def test_the_alt_text_is_spanish_where_given(app, client, make_event, runner):
    make_event()
    poster = app.instance_path + "/poster.png"
    with open(poster, "wb") as file:
        file.write(picture(image_format="PNG"))
    arguments = ["events", "set-image", "solidarity-meeting", poster, "--alt", "Our poster"]
    result = runner.invoke(args=[*arguments, "--alt-es", "Nuestro cartel"])
    assert result.exit_code == 0, result.output
    html = client.get("/events/solidarity-meeting", headers=SPANISH).get_data(as_text=True)
    assert 'alt="Nuestro cartel"' in html and 'og:image:alt" content="Nuestro cartel"' in html


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-event", "{poster}", "--alt", "A"], "no event with slug 'no-such-event'"),
        (["solidarity-meeting", "{bad}", "--alt", "A"], "This is not a JPEG, PNG or WebP image."),
        (["solidarity-meeting", "{poster}", "--alt", " "], "alt text"),
        (["solidarity-meeting", "{missing}", "--alt", "A"], "cannot read"),
    ],
    ids=["unknown slug", "not an image", "blank alt", "no file"],
)
def test_the_cli_refuses_with_exit_2(app, runner, make_event, tmp_path, arguments, message):
    make_event()
    files = {"poster": tmp_path / "poster.jpg", "bad": tmp_path / "notes.jpg"}
    files["poster"].write_bytes(picture())
    files["bad"].write_bytes(b"just some notes")
    paths = {**{name: str(path) for name, path in files.items()}, "missing": str(tmp_path / "x")}
    before = snapshot(app)
    result = runner.invoke(args=["events", "set-image", *(a.format(**paths) for a in arguments)])
    assert result.exit_code == 2
    assert message in result.output
    assert snapshot(app) == before


def test_a_statement_gets_an_image_through_its_form(app, client, organiser, make_statement):
    make_statement()
    logged_in(client, organiser)
    path = "/organisers/statements/solidarity-with-bolivia/edit"
    form = client.get(path).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    response = post_multipart(
        client,
        path,
        {
            "csrf_token": csrf_token(client, path),
            "title": "Solidarity with Bolivia",
            "slug": "solidarity-with-bolivia",
            "body": "We stand with Bolivia.",
            "published": "y",
            "open_for_signing": "y",
            "image": upload(picture(1000, 500, "WEBP"), "hands.webp"),
            "image_alt": "Raised hands",
        },
    )
    assert response.status_code == 302, text_of(response)
    with app.app_context():
        image = statements.get_statement("solidarity-with-bolivia").image
        assert (image.alt, image.widths) == ("Raised hands", [480, 960, 1000])
        image_hash = image.hash
    html = client.get("/statements/solidarity-with-bolivia").get_data(as_text=True)
    assert f'content="https://events.example.org/media/{image_hash}-1000.jpg"' in html
    assert re.search(r'<img class="event__image"[^>]*alt="Raised hands"', html)


# --- The site's look ---------------------------------------------------------------------------

SITE = "/organisers/site"


def post_site(client, **fields):
    return post_multipart(client, SITE, {"csrf_token": csrf_token(client, SITE), **fields})


def test_only_an_admin_may_change_the_sites_look(app, client, organiser):
    assert client.get(SITE).status_code == 302  # to the login
    logged_in(client, organiser)
    assert client.get(SITE).status_code == 403
    before = snapshot(app)
    token = csrf_token(client, "/organisers/password")
    taken = client.post(SITE, data={"csrf_token": token, "introduction": "Taken over"})
    assert taken.status_code == 403
    assert snapshot(app) == before
    assert "/organisers/site" not in client.get("/organisers/").get_data(as_text=True)


def test_the_introduction_shows_above_the_list_sanitised_and_in_spanish(client, admin, app):
    app.config["PAGE_CACHE_SECONDS"] = 60
    assert "Friends of Bolivia" in text_of(client.get("/"))  # cached without an introduction
    logged_in(client, admin)
    assert "/organisers/site" in client.get("/organisers/").get_data(as_text=True)
    response = post_site(
        client,
        introduction="We are **Friends of Bolivia**.<script>alert(1)</script>",
        introduction_es="Somos **Amigos de Bolivia**.",
    )
    assert response.status_code == 302
    assert "the home page and the header show the change now" in text_of(client.get(SITE))
    assert "The site's look changed" in text_of(client.get("/organisers/audit"))
    home = client.get("/").get_data(as_text=True)  # at once, though the page was cached
    assert "We are <strong>Friends of Bolivia</strong>." in home
    assert "<script" not in home  # the parser escapes raw HTML: it shows as text, never runs
    assert home.index("We are") < home.index("<h1>")
    spanish = client.get("/", headers=SPANISH).get_data(as_text=True)
    assert "Somos <strong>Amigos de Bolivia</strong>." in spanish


def test_the_logo_replaces_the_name_in_the_header(app, client, admin):
    logged_in(client, admin)
    without_alt = post_site(client, image=upload(picture(400, 100, "PNG")), image_alt="")
    assert without_alt.status_code == 400
    response = post_site(
        client,
        introduction="",
        image=upload(picture(400, 100, "PNG"), "logo.png"),
        image_alt="Friends of Bolivia",
        image_alt_es="Amigos de Bolivia",
    )
    assert response.status_code == 302, text_of(response)
    page = client.get("/statements").get_data(as_text=True)
    [logo] = re.findall(r'<img class="site-logo"[^>]*>', page)
    assert 'alt="Friends of Bolivia"' in logo and 'width="400"' in logo and "srcset=" in logo
    assert 'alt="Amigos de Bolivia"' in client.get("/", headers=SPANISH).get_data(as_text=True)
    assert post_site(client, image_remove="y").status_code == 302
    page = client.get("/statements").get_data(as_text=True)
    assert "site-logo" not in page and ">Friends of Bolivia</a>" in page


def test_the_sites_look_page_is_in_spanish(client, admin):
    logged_in(client, admin)
    page = text_of(client.get(SITE, headers=SPANISH))
    assert "Introducción en la página de inicio (Markdown)" in page
    assert "Logotipo" in page


def test_the_demo_has_posters_with_alt_text_and_an_introduction(app, client):
    from datetime import date

    from service.demo import DEMO_EVENT_SLUG, load_demo

    with app.app_context():
        report = load_demo(date(2027, 3, 1))
        assert "gave event bolivia-people-power-hope-solidarity its poster" in report
        assert "wrote the home page's introduction" in report
        again = load_demo(date(2027, 3, 1))
        assert not any("poster" in line or "introduction" in line for line in again)
    page = client.get(f"/events/{DEMO_EVENT_SLUG}").get_data(as_text=True)
    assert 'alt="Poster: People power, hope &amp; solidarity.' in page
    assert 'property="og:image" content="https://events.example.org/media/' in page
    statement = client.get("/statements/solidarity-with-bolivia").get_data(as_text=True)
    assert 'alt="Poster: Defend democracy. No new coup.' in statement
    assert "<strong>Friends of Bolivia</strong> brings people" in client.get("/").get_data(
        as_text=True
    )
