"""The local PostgreSQL of the pipeline tests: its connection, a schema of their own, and the
Meltano variables that point target-postgres and dbt-postgres at it (one place for all)."""

from __future__ import annotations

import os
import typing as t
import uuid

import psycopg
import pytest
from psycopg import sql

PG = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "port": int(os.environ.get("PGPORT", "5432")),
    "user": os.environ.get("PGUSER", "postgres"),
    # target-postgres refuses an empty password, even where the server does not ask for one.
    "password": os.environ.get("PGPASSWORD", "unused-with-trust-auth"),
    "dbname": os.environ.get("PGDATABASE", "test"),
}


def connect() -> psycopg.Connection[t.Any]:
    """A connection to the test database; the test fails (never skips) when it is down."""
    try:
        return psycopg.connect(**PG, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG['host']}:{PG['port']} ({exc}); start "
            "it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )


def create_schema(db: psycopg.Connection[t.Any]) -> str:
    """A new schema of a random name, so runs never see each other's tables."""
    schema = f"tts_e2e_{uuid.uuid4().hex[:10]}"
    db.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return schema


def drop_schema(db: psycopg.Connection[t.Any], schema: str) -> None:
    """Drop a test schema and everything in it."""
    db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def target_postgres_env(raw_schema: str) -> dict[str, str]:
    """target-postgres' settings: the test database, raw tables in ``raw_schema``."""
    return {
        "TARGET_POSTGRES_HOST": PG["host"],
        "TARGET_POSTGRES_PORT": str(PG["port"]),
        "TARGET_POSTGRES_USER": PG["user"],
        "TARGET_POSTGRES_PASSWORD": PG["password"],
        "TARGET_POSTGRES_DATABASE": PG["dbname"],
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
    }


def dbt_postgres_env(marts_schema: str, raw_schema: str) -> dict[str, str]:
    """dbt-postgres' settings: models built into ``marts_schema`` from ``raw_schema``."""
    return {
        "DBT_POSTGRES_HOST": PG["host"],
        "DBT_POSTGRES_PORT": str(PG["port"]),
        "DBT_POSTGRES_USER": PG["user"],
        "DBT_POSTGRES_PASSWORD": PG["password"],
        "DBT_POSTGRES_DBNAME": PG["dbname"],
        "DBT_POSTGRES_SCHEMA": marts_schema,
        "DBT_POSTGRES_SOURCE_SCHEMA": raw_schema,
    }
