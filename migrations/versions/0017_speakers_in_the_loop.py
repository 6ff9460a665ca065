"""Speakers in the loop: invitations, their answers, briefs per event (issue 15, point 6)

People on the bill get a language (existing rows the site's, BABEL_DEFAULT_LOCALE, which
their briefs were written in until now), a bio (en, es), when they were invited, their answer
and a link secret (existing rows get a fresh one each). Unsubscriptions get an event: None keeps
the old meaning (every event), a value stops one event's mail only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:00:00

"""
import secrets

from alembic import op
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    _upgrade_people()
    _upgrade_unsubscriptions()


def downgrade():
    _downgrade_unsubscriptions()
    _downgrade_people()


# --- people on the bill (service/events/speakers.py) ----------------------------------------


def _upgrade_people():
    # A batch (event_people has no triggers to lose): SQLite cannot add the enum's CHECK in place.
    with op.batch_alter_table('event_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))
        batch_op.add_column(sa.Column('bio', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bio_es', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answer', sa.Enum('confirmed', 'declined', name='speakeranswer', native_enum=False, create_constraint=True, length=20), nullable=True))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('link_secret', sa.String(length=32), nullable=True))

    people = sa.table('event_people', sa.column('id', sa.Integer()), sa.column('language', sa.String()), sa.column('link_secret', sa.String()))
    connection = op.get_bind()
    language = current_app.config["BABEL_DEFAULT_LOCALE"]
    for (person_id,) in connection.execute(sa.select(people.c.id)).all():
        connection.execute(
            people.update()
            .where(people.c.id == person_id)
            .values(language=language, link_secret=secrets.token_hex(16))
        )
    with op.batch_alter_table('event_people', schema=None) as batch_op:
        batch_op.alter_column('language', existing_type=sa.String(length=8), server_default=None)
        batch_op.alter_column('bio', existing_type=sa.Text(), server_default=None)
        batch_op.alter_column('link_secret', existing_type=sa.String(length=32), nullable=False)


def _downgrade_people():
    with op.batch_alter_table('event_people', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_people_speakeranswer'), type_='check')
        for column in ('link_secret', 'answered_at', 'answer', 'invited_at', 'bio_es', 'bio', 'language'):
            batch_op.drop_column(column)


# --- unsubscriptions per event (service/mail/unsubscribe.py) ---------------------------------


def _upgrade_unsubscriptions():
    with op.batch_alter_table('unsubscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_unsubscriptions_event_id_events'), 'events', ['event_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_constraint('uq_unsubscriptions_address_hash', type_='unique')
        batch_op.create_index('uq_unsubscriptions_every_event', ['address_hash', 'kind'], unique=True, sqlite_where=sa.text('event_id IS NULL'), postgresql_where=sa.text('event_id IS NULL'))
        batch_op.create_index('uq_unsubscriptions_one_event', ['address_hash', 'kind', 'event_id'], unique=True, sqlite_where=sa.text('event_id IS NOT NULL'), postgresql_where=sa.text('event_id IS NOT NULL'))


def _downgrade_unsubscriptions():
    # An unsubscription from one event's mail becomes none: widening it would stop more mail
    # than the person asked to stop.
    op.execute("DELETE FROM unsubscriptions WHERE event_id IS NOT NULL")
    with op.batch_alter_table('unsubscriptions', schema=None) as batch_op:
        batch_op.drop_index('uq_unsubscriptions_one_event')
        batch_op.drop_index('uq_unsubscriptions_every_event')
        batch_op.create_unique_constraint(batch_op.f('uq_unsubscriptions_address_hash'), ['address_hash', 'kind'])
        batch_op.drop_constraint(batch_op.f('fk_unsubscriptions_event_id_events'), type_='foreignkey')
        batch_op.drop_column('event_id')
