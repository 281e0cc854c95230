"""A private PostgreSQL database per test session, from DUDAO_TEST_PG_URL.

Tests that need PostgreSQL are skipped when it is unreachable, except in CI (CI=true), where an
unreachable server is a failure: .ci/run is responsible for starting it.
"""

from __future__ import annotations

import atexit
import os

import pytest
from sqlalchemy import create_engine, make_url, text


def pg_url(dbname: str) -> str:
    # One database per test process: two runs on one server (a developer's and CI's) must not
    # drop each other's schema mid-test.
    dbname = f"{dbname}_{os.getpid()}"
    base = os.environ.get("DUDAO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = make_url(base).set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": dbname}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{dbname}"'))
                atexit.register(_drop, admin.render_as_string(hide_password=False), dbname)
        engine.dispose()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = admin.set(database=dbname)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


def _drop(admin_url: str, dbname: str) -> None:
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        engine.dispose()
    except Exception:  # best effort at interpreter exit
        pass
