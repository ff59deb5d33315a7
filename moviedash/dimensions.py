"""The filter dimensions (session type, device, market), declared once, and their "Unknown" value.

:data:`DIMENSIONS` is the one spelling of the dimensions: the query
parameters (:mod:`moviedash.params`), the raw-table and rollup SQL, the
OpenAPI document and the report's words all come from it.

Events whose dimension is missing can be selected like any other value: the
reserved filter value :data:`UNKNOWN` (``unknown``, shown as "Unknown") stands
for every stored value that says nothing:

- ``NULL`` (an empty CSV field, loaded by moviedash),
- ``''`` (an empty field imported the course's way, with sqlite's ``.import``),
- the placeholders of :data:`PLACEHOLDERS`: ``0`` (the sample's one market ``0``)
  and the text ``unknown`` itself (so the reserved value cannot collide with data).

The same definition holds in the raw-table SQL (SQLite and PostgreSQL), in
the derived tables (which store NULL as ``''``), in the options the dashboard
offers and in the known values an error lists.  Placeholders are not values of
their own: ``market=0`` is refused (use ``market=unknown``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Dimension:
    """A column events are filtered and grouped by.

    ``column`` is also the query parameter and the rollup tables' column;
    ``label`` is how the report names it ("all session types"). Every
    dimension shows and filters missing values the same way: the ``unknown``
    bucket below.
    """

    column: str
    label: str


#: The filter dimensions, in the order of the filter bar, the query parameters and the rollups' keys.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("sessiontype", "session type"),
    Dimension("device", "device"),
    Dimension("market", "market"),
)
DIMS: tuple[str, ...] = tuple(d.column for d in DIMENSIONS)
#: The reserved filter value of the missing-value bucket.
UNKNOWN = "unknown"
#: How :data:`UNKNOWN` reads in the dashboard and the reports.
UNKNOWN_LABEL = "Unknown"
#: Stored texts that mean "unknown" (besides NULL).
PLACEHOLDERS: tuple[str, ...] = ("", "0", UNKNOWN)


def is_unknown(value: Any) -> bool:
    """Whether a stored value falls in the Unknown bucket."""
    return value is None or str(value) in PLACEHOLDERS


def label(value: str) -> str:
    """How a filter value reads: ``Unknown`` for :data:`UNKNOWN`, else the value."""
    return UNKNOWN_LABEL if value == UNKNOWN else value


def known_values(stored: Iterable[Any]) -> list[str]:
    """The filter values of a column's distinct stored values: real ones sorted, then ``unknown`` if any."""
    values = set()
    unknown = False
    for value in stored:
        if is_unknown(value):
            unknown = True
        else:
            values.add(str(value))
    return sorted(values) + ([UNKNOWN] if unknown else [])


def condition(column: str, values: Sequence[str], *, nullable: bool = True) -> tuple[str, list[Any]]:
    """SQL matching ``column`` against the filter ``values`` (with :data:`UNKNOWN` meaning its bucket).

    Only placeholders are formatted into the SQL; every value is a parameter.
    ``nullable`` False for the derived tables (they store NULL as ``''``).
    """
    real = [v for v in values if v != UNKNOWN]
    params: list[Any] = list(real)
    if UNKNOWN in values:
        params.extend(PLACEHOLDERS)
    clause = f"{column} IN ({', '.join('?' * len(params))})"
    if UNKNOWN in values and nullable:
        clause = f"({clause} OR {column} IS NULL)"
    return clause, params


def bucket(column: str) -> str:
    """SQL giving a dimension's value, with NULL and the :data:`PLACEHOLDERS` as :data:`UNKNOWN`: what
    the breakdowns group by (on ``movies`` and on the derived tables alike)."""
    placeholders = ", ".join(f"'{p}'" for p in PLACEHOLDERS)  # constants of the code, not user text
    return f"CASE WHEN {column} IS NULL OR {column} IN ({placeholders}) THEN '{UNKNOWN}' ELSE {column} END"
