"""sites, spot checks and rectification items

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:00:00

A site's description, result and cultivation records (``site_records``); a draw's named pool
and who drew it; rectification items (``rectifications``) and their reminder claims
(``rectification_reminders``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = '0008'
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pool', sa.String(length=300), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('created_actor', sa.String(length=128), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('findings', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('demo_sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('decided_actor', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('decided_at', storage.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('created_actor', sa.String(length=128), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('created_at', storage.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('source_chat', sa.String(length=160), nullable=True))

    op.create_table('site_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['demo_sites.id'], name=op.f('fk_site_records_site_id_demo_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_records'))
    )
    with op.batch_alter_table('site_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_records_site_id'), ['site_id'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('reported_by', sa.Integer(), nullable=True),
    sa.Column('reported_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('closed_actor', sa.String(length=128), nullable=True),
    sa.Column('closed_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_actor', sa.String(length=128), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['spot_checks.id'], name=op.f('fk_rectifications_check_id_spot_checks')),
    sa.ForeignKeyConstraint(['reported_by'], ['people.id'], name=op.f('fk_rectifications_reported_by_people')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_rectifications_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index('ix_rectifications_status_due', ['status', 'due'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectifications_unit_id'), ['unit_id'], unique=False)

    op.create_table('rectification_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('sent_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rectification_reminders_rectification_id_rectifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_reminders')),
    sa.UniqueConstraint('rectification_id', 'stage', name=op.f('uq_rectification_reminders_rectification_id_stage'))
    )


def downgrade() -> None:
    op.drop_table('rectification_reminders')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_unit_id'))
        batch_op.drop_index('ix_rectifications_status_due')
    op.drop_table('rectifications')
    with op.batch_alter_table('site_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_records_site_id'))
    op.drop_table('site_records')
    with op.batch_alter_table('demo_sites', schema=None) as batch_op:
        for col in ('source_chat', 'created_at', 'created_actor', 'decided_at', 'decided_actor',
                    'reason', 'description'):
            batch_op.drop_column(col)
    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        for col in ('findings', 'created_actor', 'pool'):
            batch_op.drop_column(col)
