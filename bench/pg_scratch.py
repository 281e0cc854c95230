"""A scratch PostgreSQL database for a benchmark run: dropped if left over, created empty.

The benchmarks run as scripts (``.venv/bin/python bench/bench_x.py``), so this folder is on
``sys.path`` and they import this module as ``pg_scratch``.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, make_url, text


def _admin(server_url: str) -> Engine:
    return create_engine(make_url(server_url).set(drivername="postgresql+psycopg"),
                         isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def create(server_url: str, name: str) -> str:
    """Database ``name`` on the server of ``server_url``, new and empty; returns its URL."""
    engine = _admin(server_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(server_url).set(drivername="postgresql+psycopg", database=name) \
        .render_as_string(hide_password=False)


def drop(server_url: str, name: str) -> None:
    engine = _admin(server_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def from_env(name: str) -> str | None:
    """``create`` on the server of ``DUDAO_TEST_PG_URL``; None when it is not set."""
    base = os.environ.get("DUDAO_TEST_PG_URL")
    return create(base, name) if base else None


def drop_from_env(name: str) -> None:
    base = os.environ.get("DUDAO_TEST_PG_URL")
    if base:
        drop(base, name)
