"""cases: typical cases (典型案例), their files and their full-text index

Revision ID: 0007
Revises: 0014t
Create Date: 2026-12-04 23:00:00

The index reads the jieba-segmented ``search_title`` / ``search_body`` columns (segmenting is
Python's job, bot/services/case_search.py). SQLite: an external-content FTS5 table
``cases_fts`` kept in sync by triggers, so every write path (chat, CLI, restore) keeps it right.
PostgreSQL: a stored generated column ``search_vector``, the weighted ``tsvector`` of the two
columns (the ``simple`` configuration: the words are already cut), with a GIN index. Neither is a table of storage/models.py;
``storage.migrate.include_name`` keeps them out of schema comparisons.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = '0007'
down_revision = "0014t"
branch_labels = None
depends_on = None

# The weighted vector of the two columns: a title word ranks as A, a body word as B.
PG_VECTOR = ("(setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
             "setweight(to_tsvector('simple'::regconfig, search_body), 'B'))")

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE cases_fts USING fts5(search_title, search_body, "
    "content='cases', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER cases_fts_ai AFTER INSERT ON cases BEGIN "
    "INSERT INTO cases_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE TRIGGER cases_fts_ad AFTER DELETE ON cases BEGIN "
    "INSERT INTO cases_fts(cases_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); END",
    "CREATE TRIGGER cases_fts_au AFTER UPDATE OF search_title, search_body ON cases BEGIN "
    "INSERT INTO cases_fts(cases_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO cases_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
)


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('source_chat', sa.String(length=160), nullable=True),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('search_title', sa.Text(), nullable=False),
    sa.Column('search_body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_cases_person_id_people')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['people.id'],
                            name=op.f('fk_cases_reviewed_by_people')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_cases_task_id_tasks')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_cases_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    op.create_index(op.f('ix_cases_unit_id'), 'cases', ['unit_id'], unique=False)
    op.create_index(op.f('ix_cases_year'), 'cases', ['year'], unique=False)
    op.create_table('case_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_files_case_id_cases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_files'))
    )
    op.create_index(op.f('ix_case_files_case_id'), 'case_files', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_files_sha256'), 'case_files', ['sha256'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Stored, not an index expression: a phrase query rechecks positions on every candidate
        # row, and recomputing the vector there cost ~50x (bench/bench_case_search.py).
        op.execute(f"ALTER TABLE cases ADD COLUMN search_vector tsvector "
                   f"GENERATED ALWAYS AS ({PG_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_cases_search ON cases USING gin (search_vector)")
    else:
        for stmt in SQLITE_FTS:
            op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search")
        op.execute("ALTER TABLE cases DROP COLUMN IF EXISTS search_vector")
    else:
        for name in ("cases_fts_ai", "cases_fts_ad", "cases_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS cases_fts")
    op.drop_index(op.f('ix_case_files_sha256'), table_name='case_files')
    op.drop_index(op.f('ix_case_files_case_id'), table_name='case_files')
    op.drop_table('case_files')
    op.drop_index(op.f('ix_cases_year'), table_name='cases')
    op.drop_index(op.f('ix_cases_unit_id'), table_name='cases')
    op.drop_table('cases')
