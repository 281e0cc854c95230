"""PostgreSQL: a copy by ``pg_dump`` (custom format), put back by ``pg_restore`` and ``psql``.

Consistency: our own REPEATABLE READ transaction exports its snapshot (``pg_export_snapshot``),
reads the row counts and attachment hashes, and ``pg_dump --snapshot`` dumps exactly that
snapshot while the transaction stays open. So the counts in the manifest are the dump's own.

Verification needs no database: ``pg_restore --data-only -f -`` turns the dump back into its
COPY blocks, whose rows are counted one line each (COPY's text format escapes newlines).

Restore runs in one transaction (``psql --single-transaction``): dudao's existing tables are
dropped first (also those of a newer revision the dump does not have), then the dump's script is
applied; a failure anywhere rolls everything back and the database is as it was.

The password never appears on a command line (``ps`` shows those): it goes in ``PGPASSWORD``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from storage.snapshot.common import (
    BLOBS_SQL,
    POSTGRESQL,
    REVISION_TABLE,
    CopyInfo,
    Snapshot,
    SnapshotError,
    ToolMissing,
    quote_ident,
    select_from,
)

_IDENT = r'(?:"(?:[^"]|"")+"|[^\s."]+)'
_COPY = re.compile(rf"^COPY ({_IDENT})\.({_IDENT}) .*FROM stdin;$")
_TAIL_LINES = 20
_CHUNK = 1024 * 1024


def take(url: str, dest: Path) -> Snapshot:
    pg_dump = _tool("pg_dump")
    import psycopg

    dsn, password = _conninfo(url)
    try:
        conn = psycopg.connect(_with_password(dsn, password), connect_timeout=10,
                               application_name="dudao-backup")
    except psycopg.Error as exc:
        raise SnapshotError(f"cannot connect to the database: {exc}") from exc
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot_id = _scalar(conn, "SELECT pg_export_snapshot()")
        schema = str(_scalar(conn, "SELECT current_schema()"))
        tables = _counts(conn, schema)
        revision = _revision(conn, tables)
        blobs = tuple(r[0] for r in conn.execute(BLOBS_SQL)) if "attachments" in tables else ()
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot_id}", f"--file={dest}",
              f"--dbname={dsn}"], password, "pg_dump")
        conn.rollback()
    except psycopg.Error as exc:
        raise SnapshotError(f"reading the database failed: {exc}") from exc
    finally:
        conn.close()
    return Snapshot(POSTGRESQL, revision, tables, blobs, schema=schema)


def inspect(copy: Path, *, schema: str | None) -> CopyInfo:
    """Row counts and revision of a dump, read from its data section."""
    pg_restore = _tool("pg_restore")
    if not copy.is_file():
        raise SnapshotError(f"no dump at {copy}")
    tables: dict[str, int] = {}
    revision: str | None = None
    with subprocess.Popen([pg_restore, "--data-only", "--file=-", str(copy)],  # noqa: S603
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        current: str | None = None
        for raw in proc.stdout:
            line = raw.rstrip(b"\n")
            if current is None:
                match = _COPY.match(line.decode("utf-8", "replace"))
                if match and (schema is None or _unquote(match.group(1)) == schema):
                    current = _unquote(match.group(2))
                    tables[current] = 0
            elif line == b"\\.":
                current = None
            else:
                tables[current] += 1
                if current == REVISION_TABLE and revision is None:
                    revision = line.decode("utf-8", "replace")
        err = proc.stderr.read() if proc.stderr is not None else b""
    if proc.returncode != 0:
        raise SnapshotError("the dump does not read back (pg_restore exited "
                            f"{proc.returncode}): {_tail(err)}")
    return CopyInfo(revision, tables)


def has_data(url: str) -> bool:
    with _connected(url) as conn:
        schema = str(_scalar(conn, "SELECT current_schema()"))
        for name in _table_names(conn, schema):
            if name != REVISION_TABLE and conn.execute(
                    select_from("1", name, schema=schema, tail=" LIMIT 1")).fetchone():
                return True
        return False


def place(url: str, dump: Path) -> None:
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    import storage.models  # noqa: F401 - every table registered on Base.metadata
    from storage.base import Base

    with _connected(url) as conn:
        schema = str(_scalar(conn, "SELECT current_schema()"))
        present = set(_table_names(conn, schema))
    ours = {t.name for t in Base.metadata.sorted_tables} | {REVISION_TABLE}
    doomed = sorted(present & ours)
    prologue = "SET client_min_messages = warning;\n"
    if doomed:
        prologue += ("DROP TABLE IF EXISTS "
                     + ", ".join(f"{quote_ident(schema)}.{quote_ident(t)}" for t in doomed)
                     + " CASCADE;\n")
    dsn, password = _conninfo(url)
    env = _env(password)
    # pg_restore writes the script, we relay it to psql inside our own BEGIN … COMMIT, and send
    # the COMMIT only once pg_restore has exited cleanly: a pg_restore that dies half-way leaves
    # psql at the end of its input in an open transaction, which ends with the session (rolled
    # back). psql stops at its first error (ON_ERROR_STOP), which rolls back too. Error output
    # goes to files, so that a chatty tool can never fill a pipe and stall the other.
    with tempfile.TemporaryFile() as script_err, tempfile.TemporaryFile() as psql_out, \
            subprocess.Popen(  # noqa: S603 - our arguments, the tool found on PATH
                [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--dbname={dsn}",
                 "--file=-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_out,
                env=env) as applier, \
            subprocess.Popen(  # noqa: S603 - our arguments, the tool found on PATH
                [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--file=-", str(dump)], stdout=subprocess.PIPE, stderr=script_err,
                env=env) as script:
        assert applier.stdin is not None
        assert script.stdout is not None
        try:
            applier.stdin.write(b"BEGIN;\n" + prologue.encode())
            while chunk := script.stdout.read(_CHUNK):
                applier.stdin.write(chunk)
            if script.wait() == 0:
                applier.stdin.write(b"\nCOMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped on an error: its output says which
        finally:
            with contextlib.suppress(BrokenPipeError):
                applier.stdin.close()
            if script.poll() is None:
                script.kill()  # nobody reads its output any more
        applier.wait()
        script.wait()
        script_err.seek(0)
        script_message = script_err.read()
        psql_out.seek(0)
        psql_message = psql_out.read()
    # The cause first: pg_restore failing on its own (psql then fails on the cut-off script),
    # else psql (pg_restore then dies of the closed pipe, or is stopped by us).
    if script.returncode not in (0, -signal.SIGPIPE, -signal.SIGKILL):
        raise SnapshotError(f"pg_restore exited {script.returncode} (nothing was changed): "
                            f"{_tail(script_message)}")
    if applier.returncode != 0:
        raise SnapshotError(f"psql exited {applier.returncode} (nothing was changed): "
                            f"{_tail(psql_message)}")
    if script.returncode != 0:
        raise SnapshotError(f"pg_restore exited {script.returncode} (nothing was changed): "
                            f"{_tail(script_message)}")


# ---------------------------------------------------------------------------------- helpers


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(name)
    return path


def _conninfo(url: str) -> tuple[str, str | None]:
    """A libpq URI without the password, and the password."""
    u = make_url(url)
    password = u.password
    u = u.set(drivername="postgresql", password=None)
    return u.render_as_string(hide_password=False), (str(password) if password else None)


def _with_password(dsn: str, password: str | None) -> str:
    if password is None:
        return dsn
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, password=password)


def _env(password: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    return env


def _run(cmd: list[str], password: str | None, what: str) -> None:
    proc = subprocess.run(cmd, env=_env(password), capture_output=True,  # noqa: S603
                          check=False)
    if proc.returncode != 0:
        raise SnapshotError(f"{what} exited {proc.returncode}: {_tail(proc.stderr)}")


@contextlib.contextmanager
def _connected(url: str) -> Iterator[Any]:
    import psycopg

    dsn, password = _conninfo(url)
    try:
        conn = psycopg.connect(_with_password(dsn, password), autocommit=True,
                               connect_timeout=10, application_name="dudao-restore")
    except psycopg.Error as exc:
        raise SnapshotError(f"cannot connect to the database: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


def _scalar(conn: Any, sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    return row[0] if row else None


def _table_names(conn: Any, schema: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        (schema,))]


def _counts(conn: Any, schema: str) -> dict[str, int]:
    return {n: int(_scalar(conn, select_from("count(*)", n, schema=schema)))
            for n in _table_names(conn, schema)}


def _revision(conn: Any, tables: dict[str, int]) -> str | None:
    if REVISION_TABLE not in tables:
        return None
    value = _scalar(conn, select_from("version_num", REVISION_TABLE))
    return None if value is None else str(value)


def _unquote(ident: str) -> str:
    if ident.startswith('"') and ident.endswith('"'):
        return ident[1:-1].replace('""', '"')
    return ident


def _tail(err: bytes) -> str:
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return " | ".join(lines[-_TAIL_LINES:]) or "(no message)"
