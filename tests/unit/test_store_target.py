"""Parsing ``--db``: SQLite paths and URLs, PostgreSQL URLs, and passwords kept out of messages."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from moviedash import store
from moviedash.cli import main
from moviedash.store import target


@pytest.mark.parametrize(
    ("db", "kind", "location"),
    [
        ("moviedb", "sqlite", "moviedb"),
        ("/srv/data/m.db", "sqlite", "/srv/data/m.db"),
        ("sqlite:////srv/data/m.db", "sqlite", "/srv/data/m.db"),
        ("sqlite:///rel.db", "sqlite", "rel.db"),
        ("postgresql://u:p@h:5432/db", "postgresql", "postgresql://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql", "postgresql://u@h/db"),
        ("postgresql+psycopg://u@h/db?sslmode=require", "postgresql", "postgresql://u@h/db?sslmode=require"),
        ("POSTGRESQL://u@h/db", "postgresql", "postgresql://u@h/db"),
    ],
)
def test_parse(db, kind, location):
    target = store.parse(db)
    assert (target.kind, target.location) == (kind, location)
    assert store.is_postgres(db) == (kind == "postgresql")
    if kind == "sqlite":
        assert target.path == Path(location)


@pytest.mark.parametrize(
    ("url", "shown", "secret"),
    [
        ("postgresql://alice:s3cr%40t@db:5432/movies", "postgresql://alice:***@db:5432/movies", "s3cr@t"),
        ("postgresql://alice@db/movies?password=hunter2&sslmode=require",
         "postgresql://alice@db/movies?password=***&sslmode=require", "hunter2"),
        ("postgresql://alice@db/movies", "postgresql://alice@db/movies", None),
        ("postgresql:///movies?host=/run/postgresql", "postgresql:///movies?host=/run/postgresql", None),
    ],
)
def test_passwords_are_redacted(url, shown, secret):
    assert store.redact(url) == shown
    assert store.parse(url).display == shown
    assert target.password(url) == secret


def test_a_malformed_url_is_a_clean_error_without_the_password():
    result = CliRunner().invoke(main, ["serve", "--db", "postgresql://bob:topsecret@db:notaport/x"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: --db: the PostgreSQL URL is malformed (a host or port is not valid); "
        "expected postgresql://user:pass@host:5432/dbname\n"
    )
    assert "topsecret" not in result.output and "Traceback" not in result.output
