"""Demo content taken from a real campaign's announcements (see the seeds in shared/)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service import PROJECT_ROOT
from service.events import service as events
from service.followups import service as followups
from service.media import service as media
from service.registration import links, roster
from service.registration import service as registration
from service.registration.models import RegistrationMode
from service.registration.needs import Needs
from service.statements import moderation
from service.statements import service as statements
from service.statements.models import StatementStatus

LONDON = ZoneInfo("Europe/London")
DEMO_EVENT_SLUG = "bolivia-people-power-hope-solidarity"
DEMO_STATEMENT_SLUG = "solidarity-with-bolivia"
PAST_SLUG = "bolivia-three-months-on"  # a hybrid meeting two months ago, with its attendance
# Posters drawn for the demo with Pillow (a wiphala's colours and a headline; no one's photo).
DEMO_IMAGES = PROJECT_ROOT / "service" / "static" / "demo"


def next_monday_after(day: date, days: int) -> date:
    """The first Monday at least ``days`` days after ``day``."""
    earliest = day + timedelta(days=days)
    return earliest + timedelta(days=(7 - earliest.weekday()) % 7)


def _london(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def demo_events(today: date) -> list[dict[str, Any]]:
    meeting_day = next_monday_after(today, 28)
    past_day = today - timedelta(days=63)
    past_day -= timedelta(days=(past_day.weekday() - 3) % 7)  # a Thursday
    return [
        {
            "slug": DEMO_EVENT_SLUG,
            "title": "Bolivia – People Power, Hope & Solidarity",
            "title_es": "Bolivia – Poder popular, esperanza y solidaridad",
            "summary": (
                "Six months since the Left's historic election victory and the defeat of the "
                "coup in Bolivia: eyewitness speakers on how it was won."
            ),
            "summary_es": (
                "Seis meses de la histórica victoria electoral de la izquierda y la derrota del "
                "golpe en Bolivia: testigos directos cuentan cómo se logró."
            ),
            "description": (
                "Six months ago, the **Movement Towards Socialism (MAS)** won a historic victory "
                "in Bolivia's presidential election, ending the military-led coup regime that "
                "had ousted President Evo Morales in November 2019.\n\n"
                "Despite savage repression, heroic resistance against the regime continued, "
                "buoyed by international solidarity. Hear eyewitness speakers from Bolivia on "
                "how the coup was defeated, and what the new government means for democracy, "
                "equality and social justice.\n\n"
                "- How a people refusing to be cowed defeated a coup regime\n"
                "- Lithium, the economy and the pandemic: rebuilding Bolivia\n"
                "- What international solidarity can do now\n\n"
                "Please invite friends and share this page to spread the word."
            ),
            "description_es": (
                "Hace seis meses, el **Movimiento al Socialismo (MAS)** obtuvo una victoria "
                "histórica en las elecciones presidenciales de Bolivia y puso fin al régimen "
                "golpista que había derrocado al presidente Evo Morales en noviembre de 2019.\n\n"
                "Pese a la brutal represión, la resistencia continuó, sostenida por la "
                "solidaridad internacional. Escucha a testigos directos desde Bolivia sobre cómo "
                "se derrotó el golpe y qué significa el nuevo gobierno para la democracia, la "
                "igualdad y la justicia social.\n\n"
                "Invita a tus amistades y comparte esta página."
            ),
            "starts_at": _london(meeting_day, 18, 30).isoformat(),
            "ends_at": _london(meeting_day, 20, 0).isoformat(),
            "timezone": "Europe/London",
            "extra_timezones": ["America/La_Paz"],
            "format": "hybrid",
            "venue": "Conway Hall",
            "address": "25 Red Lion Square, London WC1R 4RL",
            "join_url": "https://meet.example.org/friends-of-bolivia-people-power",
            "speaker_arrival_minutes": 30,
            "speaker_notes": (
                "Please join 30 minutes early for a sound check. Each speaker has **eight "
                "minutes**, in the running order below; Christine will keep time and take "
                "questions from the chat after the last speaker. Ollie joins from La Paz, where "
                "it will be early afternoon."
            ),
            "capacity": 120,
            "online_capacity": 500,
            "waiting_list": True,
            # Spoken in English and Spanish, each interpreted into the other.
            "languages": ["en", "es"],
            "interpretation_en": "In the meeting, choose Interpretation, then English.",
            "interpretation_es": "En la reunión, elige Interpretación y luego Español.",
            "status": "published",
            "organised_by": "Friends of Bolivia",
            "supporters": [
                "Labour Friends of Progressive Latin America",
                "Wiphalas Across the World",
                "Solidarity and labour movement groups",
            ],
            "people": [
                {
                    "name": "Ollie Vargas",
                    "role": "speaker",
                    "affiliation": "Journalist, eyewitness from Bolivia",
                    "email": "ollie.vargas@speakers.example.org",
                },
                {
                    "name": "Jeremy Corbyn MP",
                    "role": "speaker",
                    "affiliation": "",
                    "email": "jeremy.corbyn@speakers.example.org",
                },
                {
                    "name": "Miriam Colque",
                    "role": "speaker",
                    "affiliation": "Bolivian activist in London",
                    "email": "miriam.colque@speakers.example.org",
                },
                {
                    "name": "Alex Main",
                    "role": "speaker",
                    "affiliation": "Director of International Policy, "
                    "Center for Economic & Policy Research",
                    "email": "alex.main@speakers.example.org",
                },
                {
                    "name": "Claudia Tuberg-Defor",
                    "role": "speaker",
                    "affiliation": "Wiphalas Across the World",
                    "email": "claudia.tuberg.defor@speakers.example.org",
                },
                {
                    "name": "Christine Blower",
                    "role": "chair",
                    "affiliation": "Labour Friends of Progressive Latin America",
                    "email": "christine.blower@speakers.example.org",
                },
            ],
        },
        {
            "slug": PAST_SLUG,
            "title": "Bolivia three months on: steps on the road to post-coup recovery",
            "title_es": "Bolivia tres meses después: pasos hacia la recuperación tras el golpe",
            "summary": "A report-back and discussion on the new MAS government's first months.",
            "summary_es": "Informe y debate sobre los primeros meses del nuevo gobierno del MAS.",
            "description": (
                "Three months after the Movement Towards Socialism's historic victory, Friends "
                "of Bolivia report on the new government's recovery plan: COVID-19 testing and "
                "vaccines, public investment, and justice for the victims of the Sacaba and "
                "Senkata massacres."
            ),
            "starts_at": _london(past_day, 19, 0).isoformat(),
            "ends_at": _london(past_day, 20, 30).isoformat(),
            "timezone": "Europe/London",
            "extra_timezones": ["America/La_Paz"],
            "format": "hybrid",
            "venue": "Marx Memorial Library",
            "address": "37a Clerkenwell Green, London EC1R 0DU",
            "join_url": "https://meet.example.org/friends-of-bolivia-three-months",
            "status": "published",
            "organised_by": "Friends of Bolivia",
            "supporters": ["Labour Friends of Progressive Latin America"],
            "people": [
                {
                    "name": "Tim Young",
                    "role": "speaker",
                    "affiliation": "Friends of Bolivia",
                    "email": "tim.young@speakers.example.org",
                },
                {
                    "name": "Cassandra Howarth",
                    "role": "speaker",
                    "affiliation": "Writer",
                    "email": "cassandra.howarth@speakers.example.org",
                },
                {
                    "name": "Christine Blower",
                    "role": "chair",
                    "affiliation": "Labour Friends of Progressive Latin America",
                    "email": "christine.blower@speakers.example.org",
                },
            ],
        },
    ]


SOCIAL_SLUG = "solidarity-social-el-alto"

# (name, email, language, organisation): people registering for the demo events.
DEMO_PEOPLE = [
    ("Rosa Mamani", "rosa.mamani@example.org", "es", "Bolivian Women in London"),
    ("Tom Hughes", "tom.hughes@example.org", "en", "Unite the Union"),
    ("Lucía Quispe", "lucia.quispe@example.org", "es", ""),
    ("Priya Shah", "priya.shah@example.org", "en", "Stop the War Coalition"),
    ("Gareth Evans", "gareth.evans@example.org", "en", ""),
    ("Ana Condori", "ana.condori@example.org", "es", "Wiphalas Across the World"),
    ("Sam O'Neill", "sam.oneill@example.org", "en", "NEU"),
    ("Marta Flores", "marta.flores@example.org", "es", ""),
    ("Kwame Mensah", "kwame.mensah@example.org", "en", "Friends of Bolivia"),
    ("Elena Vargas", "elena.vargas@example.org", "es", ""),
    ("Joe Bloggs", "joe.bloggs@example.org", "en", ""),
]


# How each of the demo event's people takes part (the rest of DEMO_PEOPLE come to the social).
DEMO_EVENT_PARTS = {
    "rosa.mamani@example.org": RegistrationMode.ONLINE,
    "tom.hughes@example.org": RegistrationMode.IN_PERSON,
    "lucia.quispe@example.org": RegistrationMode.ONLINE,
    "priya.shah@example.org": RegistrationMode.IN_PERSON,
    "gareth.evans@example.org": RegistrationMode.IN_PERSON,
}
# What the demo meeting's people answered of its languages and access needs: the organisers'
# headcounts then have something to count.
DEMO_EVENT_NEEDS = {
    "rosa.mamani@example.org": Needs("es", needs_interpretation=True),
    "tom.hughes@example.org": Needs("en"),
    "lucia.quispe@example.org": Needs("es", needs_interpretation=True, access_needs=("dial_in",)),
    "priya.shah@example.org": Needs("en", access_needs=("captions",)),
    "gareth.evans@example.org": Needs("en", access_needs=("step_free",)),
}
# Who registered for the past hybrid meeting (the demo's people from Ana on), how each took
# part, and who came: checked in at the door, or joined by their own link.
PAST_ATTENDANCE = [
    ("ana.condori@example.org", RegistrationMode.IN_PERSON, True),
    ("sam.oneill@example.org", RegistrationMode.IN_PERSON, True),
    ("marta.flores@example.org", RegistrationMode.IN_PERSON, False),
    ("kwame.mensah@example.org", RegistrationMode.ONLINE, True),
    ("elena.vargas@example.org", RegistrationMode.ONLINE, True),
    ("joe.bloggs@example.org", RegistrationMode.ONLINE, False),
]


def demo_social(today: date) -> dict[str, Any]:
    """A small in-person evening, booked up, with a waiting list."""
    day = next_monday_after(today, 10) + timedelta(days=4)  # a Friday
    return {
        "slug": SOCIAL_SLUG,
        "title": "Solidarity social: food, music and a short film from El Alto",
        "title_es": "Encuentro solidario: comida, música y un corto desde El Alto",
        "summary": "An evening together to raise funds for community radio in El Alto.",
        "summary_es": "Una tarde juntos para recaudar fondos para la radio comunitaria de El Alto.",
        "description": (
            "Bring friends for salteñas, music and a short documentary made by young "
            "people in El Alto. Places are limited by the size of the room."
        ),
        "starts_at": _london(day, 19, 0).isoformat(),
        "ends_at": _london(day, 22, 0).isoformat(),
        "timezone": "Europe/London",
        "format": "in_person",
        "venue": "Community Hall, Friends of Bolivia",
        "address": "12 Example Street, London N1 0XX",
        "capacity": 8,
        "waiting_list": True,
        "status": "published",
        "organised_by": "Friends of Bolivia",
        "supporters": ["Wiphalas Across the World"],
        "people": [],
    }


def load_demo(today: date) -> list[str]:
    """Create or refresh the demo content; running it twice on a day changes nothing."""
    report = [
        f"{'created' if created else 'updated'} event {event.slug}"
        for event, created in events.import_events([*demo_events(today), demo_social(today)])
    ]
    # The demo's people signed up the morning before: in the past whatever the hour the demo
    # is loaded, so their confirmations are due at once.
    now = datetime.combine(today - timedelta(days=1), time(9, 0), tzinfo=LONDON)
    for slug, people in ((DEMO_EVENT_SLUG, DEMO_PEOPLE[:5]), (SOCIAL_SLUG, DEMO_PEOPLE)):
        event = events.get_event(slug)
        added = 0
        for name, email, language, organisation in people:
            if registration.find_registration(event.id, email) is None:
                demo_meeting = slug == DEMO_EVENT_SLUG
                attendee = registration.Attendee(
                    name,
                    email,
                    organisation,
                    mode=DEMO_EVENT_PARTS.get(email) if demo_meeting else None,
                    needs=DEMO_EVENT_NEEDS.get(email, Needs()) if demo_meeting else Needs(),
                )
                registration.register(slug, attendee, language, now)
                added += 1
        report.append(f"registered {added} demo attendee(s) for {slug}")
    report.extend(load_past_attendance())
    report.extend(load_demo_statement(now))
    report.extend(load_demo_look())
    report.extend(load_demo_follow_up(now))
    return report


def load_past_attendance() -> list[str]:
    """The past hybrid meeting's people, in the room and online, and who came: registered a
    week before it, checked in five minutes after the start or joined by their link two
    minutes after it (``PAST_ATTENDANCE``); what is there already is kept."""
    event = events.get_event(PAST_SLUG)
    if event is None:
        return []
    people = {
        email: (name, language, organisation) for name, email, language, organisation in DEMO_PEOPLE
    }
    registered = came = 0
    for email, mode, attended in PAST_ATTENDANCE:
        person = registration.find_registration(event.id, email)
        if person is None:
            name, language, organisation = people[email]
            attendee = registration.Attendee(name, email, organisation, mode=mode)
            registration.register(
                PAST_SLUG, attendee, language, event.starts_at - timedelta(days=7)
            )
            person = registration.find_registration(event.id, email)
            registered += 1
        if not attended or person is None or person.checked_in_at or person.joins:
            continue
        if mode is RegistrationMode.IN_PERSON:
            roster.set_checked_in(person.id, event.id, True, event.starts_at + timedelta(minutes=5))
        else:
            links.use_join_link(person, event.starts_at + timedelta(minutes=2))
        came += 1
    return [f"registered {registered} and marked {came} attending for {PAST_SLUG}"]


DEMO_INTRODUCTION = (
    "**Friends of Bolivia** brings people in Britain together with Bolivia's social "
    "movements, trade unions and indigenous organisations. When a coup tried to end democracy "
    "there, solidarity from abroad helped people hold the line until they won it back at the "
    "ballot box.\n\n"
    "Come to a meeting, hear speakers from La Paz and El Alto, and add your name to our "
    "statement: every voice makes it harder to turn the clock back."
)
DEMO_INTRODUCTION_ES = (
    "**Amigos de Bolivia** une a gente en Gran Bretaña con los movimientos sociales, los "
    "sindicatos y las organizaciones indígenas de Bolivia. Cuando un golpe quiso acabar con la "
    "democracia, la solidaridad desde fuera ayudó a resistir hasta recuperarla en las urnas."
    "\n\n"
    "Ven a una reunión, escucha a ponentes de La Paz y El Alto, y firma nuestra declaración: "
    "cada voz hace más difícil volver atrás."
)


def load_demo_look() -> list[str]:
    """The demo event's and statement's posters, and the home page's introduction; what an
    organiser has set already is kept."""
    report = []
    event = events.get_event(DEMO_EVENT_SLUG)
    if event is not None and event.image is None:
        events.set_event_image(
            event,
            media.ImageChoice(
                upload=media.prepare_image((DEMO_IMAGES / "event-poster.jpg").read_bytes()),
                alt="Poster: People power, hope & solidarity. Bolivia, a public meeting.",
                alt_es="Cartel: Poder popular, esperanza y solidaridad. Bolivia, reunión pública.",
            ),
        )
        report.append(f"gave event {event.slug} its poster")
    statement = statements.get_statement(DEMO_STATEMENT_SLUG)
    if statement is not None and statement.image is None:
        statements.set_statement_image(
            statement,
            media.ImageChoice(
                upload=media.prepare_image((DEMO_IMAGES / "statement-poster.jpg").read_bytes()),
                alt="Poster: Defend democracy. No new coup. Solidarity with Bolivia.",
                alt_es=(
                    "Cartel: Defender la democracia. No a un nuevo golpe. Solidaridad con Bolivia."
                ),
            ),
        )
        report.append(f"gave statement {statement.slug} its poster")
    settings = media.site_settings()
    if settings is None or not settings.introduction:
        logo = settings.logo if settings is not None else None
        keep = media.ImageChoice(alt=logo.alt, alt_es=logo.alt_es) if logo else media.ImageChoice()
        media.save_site_settings(DEMO_INTRODUCTION, DEMO_INTRODUCTION_ES, keep)
        report.append("wrote the home page's introduction")
    return report


DEMO_STATEMENT = {
    "slug": DEMO_STATEMENT_SLUG,
    "title": "Solidarity with Bolivia: defend democracy, no to a new coup",
    "title_es": "Solidaridad con Bolivia: defender la democracia, no a un nuevo golpe",
    "summary": (
        "We stand with the people of Bolivia, their social movements and their elected "
        "government against any attempt to turn the clock back by force."
    ),
    "summary_es": (
        "Acompañamos al pueblo de Bolivia, a sus movimientos sociales y a su gobierno electo "
        "frente a todo intento de volver atrás por la fuerza."
    ),
    "body": (
        "The people of Bolivia have restored democracy at the ballot box. After a year of "
        "repression under the coup regime, in which trade unionists, indigenous activists and "
        "social movements were targeted and lives were lost at **Sacaba** and **Senkata**, "
        "voters gave a clear and overwhelming mandate to rebuild the country.\n\n"
        "Yet pro-coup forces have already called for the result to be overturned. We, the "
        "undersigned, declare our solidarity with the Bolivian people and:\n\n"
        "- support their right to choose their own government and their own path, free from "
        "outside interference;\n"
        "- call for those responsible for the massacres of Sacaba and Senkata to be brought "
        "to justice;\n"
        "- will oppose any attempt, inside or outside the country, to restore by force a "
        "government the people rejected.\n\n"
        "**¡Viva Bolivia! ¡Viva la solidaridad!**"
    ),
    "body_es": (
        "El pueblo de Bolivia ha recuperado la democracia en las urnas. Tras un año de "
        "represión bajo el régimen golpista, en el que se persiguió a sindicalistas, activistas "
        "indígenas y movimientos sociales y se perdieron vidas en **Sacaba** y **Senkata**, el "
        "electorado dio un mandato claro y contundente para reconstruir el país.\n\n"
        "Sin embargo, las fuerzas golpistas ya han pedido anular el resultado. Quienes firmamos "
        "declaramos nuestra solidaridad con el pueblo boliviano y:\n\n"
        "- defendemos su derecho a elegir su propio gobierno y su propio camino, sin "
        "injerencia externa;\n"
        "- pedimos que los responsables de las masacres de Sacaba y Senkata respondan ante la "
        "justicia;\n"
        "- nos opondremos a todo intento, dentro o fuera del país, de restaurar por la fuerza "
        "un gobierno que el pueblo rechazó.\n\n"
        "**¡Viva Bolivia! ¡Viva la solidaridad!**"
    ),
    "target_count": 1000,
}

# Invented people, so no real person is shown signing anything: (name, email, affiliation,
# town, country, show name, featured).
DEMO_SIGNATORIES = [
    (
        "Margaret Ellison MP",
        "m.ellison@example.org",
        "Member of Parliament",
        "Leeds",
        "UK",
        True,
        True,
    ),
    (
        "Tomás Quispe",
        "t.quispe@example.org",
        "General Secretary, Example Miners' Federation",
        "El Alto",
        "Bolivia",
        True,
        True,
    ),
    (
        "Dr Aisha Rahman",
        "a.rahman@example.org",
        "Chair, Example Lawyers for Human Rights",
        "London",
        "UK",
        True,
        True,
    ),
    ("Rosa Mamani", "rosa.mamani@example.org", "", "La Paz", "Bolivia", True, False),
    (
        "Peter Hughes",
        "peter.hughes@example.org",
        "Example Trades Council",
        "Cardiff",
        "UK",
        True,
        False,
    ),
    ("Lucía Fernández", "lucia.fernandez@example.org", "", "Madrid", "España", True, False),
    ("Sam Taylor", "sam.taylor@example.org", "", "Glasgow", "UK", False, False),
]


def load_demo_statement(now: datetime) -> list[str]:
    """The demo statement, published and open, with a few confirmed signatories."""
    statement = statements.get_statement(DEMO_STATEMENT_SLUG)
    fields = {**DEMO_STATEMENT, "status": StatementStatus.PUBLISHED}
    created = statement is None
    statement = statements.save_statement(statement, fields, now)
    added = 0
    for name, email, affiliation, town, country, show_name, featured in DEMO_SIGNATORIES:
        if statements.find_signature(statement.id, email) is not None:
            continue
        signer = statements.Signer(name, email, affiliation, town, country, show_name)
        signature = statements.add_confirmed_signature(statement.id, signer, "en", now)
        if featured:
            moderation.moderate(statement.id, signature.id, moderation.ModerationAction.FEATURE)
        added += 1
    return [
        f"{'created' if created else 'updated'} statement {statement.slug}",
        f"added {added} demo signatory(ies) to {statement.slug}",
    ]


DEMO_RECORDING_URL = "https://video.example.org/friends-of-bolivia/people-power-hope-solidarity"
DEMO_FOLLOW_UP_ATTENDED = followups.VersionText(
    subject="Thank you for coming: Bolivia – People Power, Hope & Solidarity",
    subject_es="Gracias por venir: Bolivia – Poder popular, esperanza y solidaridad",
    body=(
        "Thank you for joining us to mark six months since the Movement Towards Socialism's "
        "historic victory and the defeat of the coup in Bolivia.\n\n"
        "As Ollie Vargas and our other speakers told us, the coup was defeated by **a people "
        "refusing to be cowed**, buoyed by international solidarity. Pro-coup forces have "
        "already called for the result to be overturned: solidarity matters as much now as "
        "it did then.\n\n"
        "If you missed part of the meeting, the recording is below. And please **add your "
        "name** to our statement, then share it with your union branch or group."
    ),
    body_es=(
        "Gracias por acompañarnos a celebrar seis meses de la histórica victoria del "
        "Movimiento al Socialismo y la derrota del golpe en Bolivia.\n\n"
        "Como nos contaron Ollie Vargas y los demás ponentes, el golpe lo derrotó **un pueblo "
        "que se negó a dejarse intimidar**, sostenido por la solidaridad internacional. Las "
        "fuerzas golpistas ya han pedido anular el resultado: la solidaridad importa hoy "
        "tanto como entonces.\n\n"
        "Si te perdiste una parte de la reunión, abajo está la grabación. Y **firma** nuestra "
        "declaración, y compártela con tu sindicato o tu grupo."
    ),
    with_recording=True,
    with_sign=True,
)
DEMO_FOLLOW_UP_MISSED = followups.VersionText(
    subject="Sorry we missed you: the recording of Bolivia – People Power, Hope & Solidarity",
    subject_es=(
        "Te echamos de menos: la grabación de Bolivia – Poder popular, esperanza y solidaridad"
    ),
    body=(
        "You registered for our meeting marking six months since the Left's historic "
        "election victory in Bolivia, but could not make it: the recording is below.\n\n"
        "Eyewitness speakers from Bolivia, with Jeremy Corbyn MP, Miriam Colque, Alex Main "
        "and Claudia Tuberg-Defor, spoke about how the coup regime was defeated, and what "
        "the new government means for democracy, equality and social justice.\n\n"
        "One thing you can do today: **add your name** to our solidarity statement."
    ),
    body_es=(
        "Te inscribiste en nuestra reunión por los seis meses de la histórica victoria "
        "electoral de la izquierda en Bolivia, pero no pudiste venir: abajo está la "
        "grabación.\n\n"
        "Testigos directos desde Bolivia, con Jeremy Corbyn, Miriam Colque, Alex Main y "
        "Claudia Tuberg-Defor, contaron cómo se derrotó al régimen golpista y qué significa "
        "el nuevo gobierno para la democracia, la igualdad y la justicia social.\n\n"
        "Algo que puedes hacer hoy: **firma** nuestra declaración de solidaridad."
    ),
    with_recording=True,
    with_sign=True,
)


def load_demo_follow_up(now: datetime) -> list[str]:
    """The main demo event's follow-up, the next morning, linking the demo statement; one an
    organiser has written already is kept."""
    event = events.get_event(DEMO_EVENT_SLUG)
    statement = statements.get_statement(DEMO_STATEMENT_SLUG)
    if event is None or statement is None or followups.get_follow_up(event.id) is not None:
        return []
    draft = followups.FollowUpDraft(
        send_at=followups.default_send_at(event),
        attended=DEMO_FOLLOW_UP_ATTENDED,
        missed=DEMO_FOLLOW_UP_MISSED,
        recording_url=DEMO_RECORDING_URL,
        statement_id=statement.id,
    )
    followups.save_follow_up(event, draft, now)
    return [f"wrote the follow-up of {event.slug}"]
