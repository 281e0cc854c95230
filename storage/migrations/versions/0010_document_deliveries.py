"""document deliveries: issued documents sent to groups and officials, and how each went

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base


revision = '0010'
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivered_as', sa.String(length=8), nullable=True))
    op.create_table('document_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('chat', sa.String(length=160), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sent_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                            name=op.f('fk_document_deliveries_document_id_documents'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'],
                            name=op.f('fk_document_deliveries_outbox_id_outbox'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                            name=op.f('fk_document_deliveries_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_deliveries')),
    sa.UniqueConstraint('document_id', 'chat', name=op.f('uq_document_deliveries_document_id_chat'))
    )
    with op.batch_alter_table('document_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_deliveries_document_id'), ['document_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('document_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_deliveries_document_id'))
    op.drop_table('document_deliveries')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('delivered_as')
