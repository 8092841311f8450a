"""Database engine, sessions and migrations."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session as SQLModelSession

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlalchemy_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+psycopg:// and use psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Session(SQLModelSession):
    """The project's sessions: the outbox listeners (core.events) hang on this class only."""


def driver(session: OrmSession) -> Any:
    """The psycopg connection under the session's transaction, for the few statements on a hot
    path (placement's reads once per batch, a bulk COPY) whose handling by SQLAlchemy costs more
    than the statement: psycopg placeholders (%(name)s), rows as tuples. They take part in the
    transaction; SQLAlchemy's events do not see them."""
    return session.connection().connection.driver_connection


def execute_each(session: OrmSession, statement: str, rows: list[dict[str, Any]]) -> None:
    """The driver's statement once for each row: pipelined when there are several (psycopg's
    executemany), sent alone when there is one (a pipeline costs more than it saves then)."""
    with driver(session).cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(statement, rows[0])
        else:
            cursor.executemany(statement, rows)


def insert_sql(table: str, columns: Sequence[str], value: Callable[[str], str] | None = None) -> str:
    """An INSERT of one row of these columns, for the driver: each value a named placeholder
    (`%(column)s`), or what `value` makes of the column's name (a cast)."""
    values = [value(name) if value else f"%({name})s" for name in columns]
    return "INSERT INTO {} ({}) VALUES ({})".format(
        table, ", ".join(f'"{name}"' for name in columns), ", ".join(values)
    )


def read_all(session: OrmSession, statements: Sequence[str], params: Mapping[str, Any]) -> list[list[Any]]:
    """The rows of each statement, all sent as one query: one round trip, psycopg binding the
    parameters on the client (`ClientCursor`). Each statement still takes its own snapshot, so
    a read after a lock sees what committed before the lock was granted."""
    with psycopg.ClientCursor(driver(session)) as cursor:
        cursor.execute(";\n".join(statements), params)
        results = [cursor.fetchall()]
        while cursor.nextset():
            results.append(cursor.fetchall())
    return results


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """A pooled engine for `url`; whoever makes it disposes of it (see core.runtime.system).
    Statements are not prepared on the server: psycopg's automatic preparing (up to 100
    statements a connection) grew each pooled PostgreSQL backend by 16 % in a 30-minute soak,
    +4 % without it, at no cost in throughput (evals/README.md, Soak)."""
    return create_engine(
        sqlalchemy_url(url), pool_size=pool_size, max_overflow=20, pool_pre_ping=True,
        connect_args={"prepare_threshold": None}, json_serializer=json_text, json_deserializer=orjson.loads,
    )  # fmt: skip


def json_text(value: Any) -> str:
    """JSON columns as orjson writes them: grouping reads and writes a chat's conversation
    summaries with every batch, and orjson does it in a third of the standard library's time."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (safe to run from several processes)."""
    command.upgrade(alembic_config(url), "head")


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def create_database(server_url: str, prefix: str = "t") -> str:
    """A fresh, migrated database on the server (its user may create databases); returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = make_url(sqlalchemy_url(server_url)).set(database=name).render_as_string(hide_password=False)
    _as_admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        migrate(url)
    except BaseException:
        drop_database(server_url, url)
        raise
    return url


def drop_database(server_url: str, url: str) -> None:
    """Drop the database `url` names (made by create_database), closing its connections."""
    _as_admin(server_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _as_admin(server_url: str, statement: str) -> None:
    admin = create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()
