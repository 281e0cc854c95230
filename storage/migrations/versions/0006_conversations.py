"""conversations: the last question and a pending clarification per chat and person

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base


revision = '0006'
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat', sa.String(length=160), nullable=False),
    sa.Column('person', sa.String(length=128), nullable=False),
    sa.Column('last_query', sa.JSON(), nullable=True),
    sa.Column('last_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending', sa.JSON(), nullable=True),
    sa.Column('pending_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('chat', 'person', name=op.f('uq_conversations_chat_person'))
    )
    op.create_index(op.f('ix_conversations_expires_at'), 'conversations', ['expires_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_conversations_expires_at'), table_name='conversations')
    op.drop_table('conversations')
