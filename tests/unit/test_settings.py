"""The data-quality settings' declarations: defaults, parsing, validation, storage in SQLite."""
from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from moviedash import settings as data_settings
from moviedash.errors import MoviedashError
from moviedash.store import SETTINGS_DDL
from tests import reference as ref


def test_defaults_are_the_reference_ones_and_every_field_is_declared_once() -> None:
    assert [s.name for s in data_settings.SETTINGS] == [f.name for f in dataclasses.fields(ref.Settings)]
    for declared in data_settings.SETTINGS:
        assert declared.default == getattr(ref.DEFAULT, declared.name), declared.name
        assert declared.help and declared.kind
    assert data_settings.DEFAULT.is_play_default()
    assert not data_settings.Settings(min_minutes=1).is_play_default()


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("min_minutes", " 3 ", 3),
        ("min_minutes", "0", 0),
        ("watched_threshold", "85.5", 85.5),
        ("watched_threshold", "100", 100.0),
        ("exclude_users", "a, b ,c", frozenset({"a", "b", "c"})),
        ("exclude_users", "a b", frozenset({"a", "b"})),
        ("exclude_users", "none", frozenset()),
        ("exclude_users", "", frozenset()),
        ("poor_quality_threshold", "-2.5", -2.5),
        ("errorperception_higher_is_worse", "No", False),
        ("errorperception_higher_is_worse", "true", True),
        ("binge_min_episodes", " 2", 2),
        ("binge_max_gap_minutes", "0", 0),
        ("binge_max_gap_minutes", "10080", 10080),
    ],
)
def test_parse(name: str, text: str, value: object) -> None:
    assert data_settings.parse(name, text) == value


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("min_minutes", "-1", "from 0 to 100,000"),
        ("min_minutes", "100001", "from 0 to 100,000"),
        ("min_minutes", "ten", "not a whole number"),
        ("watched_threshold", "0", "above 0 and at most 100"),
        ("watched_threshold", "x", "not a number"),
        ("poor_quality_threshold", "nan", "finite"),
        ("errorperception_higher_is_worse", "2", "not true or false"),
        ("exclude_users", ",".join(f"u{i}" for i in range(1001)), "at most 1,000 user ids"),
        ("exclude_users", "x" * 201, "is not a user id"),
        ("binge_min_episodes", "1", "from 2 to 1,000"),
        ("binge_min_episodes", "3.5", "not a whole number"),
        ("binge_max_gap_minutes", "-1", "from 0 to 10,080"),
        ("binge_max_gap_minutes", "10081", "from 0 to 10,080"),
    ],
)
def test_bad_values_are_refused_with_the_reason(name: str, text: str, reason: str) -> None:
    with pytest.raises(data_settings.SettingError, match=reason) as caught:
        data_settings.parse(name, text)
    assert caught.value.message.startswith(f"{name}: ") and "\n" not in caught.value.message


def test_unknown_key_names_the_known_ones() -> None:
    with pytest.raises(data_settings.SettingError) as caught:
        data_settings.parse("min_minute", "1")
    assert caught.value.message == ("unknown setting 'min_minute'; settings: min_minutes, watched_threshold, "
                                    "exclude_users, poor_quality_threshold, errorperception_higher_is_worse, "
                                    "binge_min_episodes, binge_max_gap_minutes")


def test_save_and_load_round_trip_and_defaults_store_no_row() -> None:
    conn = sqlite3.connect(":memory:")
    assert data_settings.load(conn) == data_settings.DEFAULT  # no table: a database made the course's way
    data_settings.save(conn, "exclude_users", frozenset({"b", "a"}))
    data_settings.save(conn, "min_minutes", 2)
    data_settings.save(conn, "watched_threshold", 90.0)  # the default: no row
    assert conn.execute("SELECT key, value FROM moviedash_settings ORDER BY key").fetchall() == [
        ("exclude_users", '["a", "b"]'), ("min_minutes", "2")]
    assert data_settings.load(conn) == data_settings.Settings(min_minutes=2, exclude_users=frozenset({"a", "b"}))
    data_settings.save(conn, "min_minutes", None)
    assert data_settings.load(conn).min_minutes == 0


def test_a_bad_stored_value_is_one_line_naming_the_fix() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(SETTINGS_DDL)
    conn.execute("INSERT INTO moviedash_settings VALUES ('min_minutes', '\"lots\"'), ('someday', '1')")
    with pytest.raises(MoviedashError) as caught:
        data_settings.load(conn)
    assert caught.value.status == 503
    assert "moviedash settings reset min_minutes" in caught.value.message


def test_describe_shows_values_as_the_command_line_takes_them() -> None:
    shown = {s.name: s for s in data_settings.describe(data_settings.Settings(exclude_users=frozenset({"b", "a"})))}
    assert shown["exclude_users"].value == "a,b" and shown["exclude_users"].changed
    assert shown["exclude_users"].default == "none"
    assert shown["watched_threshold"].value == "90" and not shown["watched_threshold"].changed
    assert shown["errorperception_higher_is_worse"].value == "true"
    for line in shown.values():  # what show prints, set takes back
        declared = data_settings.setting(line.name)
        value, default = (declared.check(declared.parse(text)) for text in (line.value, line.default))
        assert (value == default) != line.changed
