"""plans and series: recurring tasks whose instances are tasks, a plan's source and preset

Revision ID: 0004
Revises: 0006
Create Date: 2026-12-05 10:00:00

``tasks.series_id`` pointed at ``tasks`` and ``tasks.recurrence`` was stored and never acted on;
a series is now a record of its own (``series``, ``series_units``) and its instances are tasks
with ``series_id`` and ``period`` (unique together: the claim that creates each once).

On SQLite the ``tasks`` table is rebuilt (a foreign key cannot be altered in place);
storage/migrate.py runs upgrades with foreign keys off and checks them before committing, so the
rows that refer to tasks (assignments, submissions, flags…) stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = '0004'
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=300), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('preset', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('created_actor', sa.String(length=128), nullable=False,
                                      server_default=''))
        batch_op.create_index('uq_plans_year_preset', ['year', 'preset'], unique=True)

    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('materials', sa.Text(), nullable=False),
    sa.Column('system', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('first_due', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('at_period_end', sa.Boolean(), nullable=False),
    sa.Column('until', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lead_days', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reminder_policy', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('next_index', sa.Integer(), nullable=False),
    sa.Column('next_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('cancelled_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_actor', sa.String(length=128), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_series_created_by_people')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_series_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series'))
    )
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_next_at'), ['next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_plan_id'), ['plan_id'], unique=False)

    op.create_table('series_units',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_units_series_id_series'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_series_units_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', 'unit_id', name=op.f('pk_series_units'))
    )
    with op.batch_alter_table('series_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_units_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_tasks_series_id_tasks', type_='foreignkey')
        batch_op.drop_column('recurrence')
        batch_op.add_column(sa.Column('period', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('fields', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_series_id_series'), 'series',
                                    ['series_id'], ['id'])
        batch_op.create_index('uq_tasks_series_period', ['series_id', 'period'], unique=True)


def downgrade() -> None:
    # The instances' link to their series goes with the series (before the old foreign key to
    # tasks is put back, which PostgreSQL checks against the rows).
    op.execute("UPDATE tasks SET series_id = NULL")
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_tasks_series_period')
        batch_op.drop_constraint(batch_op.f('fk_tasks_series_id_series'), type_='foreignkey')
        batch_op.drop_column('fields')
        batch_op.drop_column('period')
        batch_op.add_column(sa.Column('recurrence', sa.String(length=16), nullable=False,
                                      server_default='none'))
        batch_op.create_foreign_key('fk_tasks_series_id_tasks', 'tasks', ['series_id'], ['id'])

    with op.batch_alter_table('series_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_units_unit_id'))
    op.drop_table('series_units')
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_plan_id'))
        batch_op.drop_index(batch_op.f('ix_series_next_at'))
    op.drop_table('series')

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('uq_plans_year_preset')
        batch_op.drop_column('created_actor')
        batch_op.drop_column('preset')
        batch_op.drop_column('source')
