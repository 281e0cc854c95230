"""corrections: a cancelled task's reason and time; a withdrawn flag's reason and time

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-04 23:00:00

``dudao task cancel`` (and 撤销任务, the board's 撤销) sets ``tasks.status = 'cancelled'`` with
its reason; the task's current flags stop being current and keep the reason they were withdrawn
for, so the history stays readable.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = '0009'
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', storage.base.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', storage.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('withdrawn_reason')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('cancel_reason')
