"""CSV exports open in a spreadsheet as data: no cell is evaluated as a formula."""
from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from moviedash import csvsafe
from tests.helpers import FORMULA_TITLES


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("title", FORMULA_TITLES)
def test_formula_like_text_gets_a_leading_quote(title: str) -> None:
    frame = pd.DataFrame({"title": [title, "Argo"], "values": [3, -4]})
    rows = cells(csvsafe.to_csv(frame))
    assert rows[0] == ["title", "values"]
    assert rows[1] == ["'" + title, "3"]
    assert rows[2] == ["Argo", "-4"]  # numbers stay numbers, negative ones too


@pytest.mark.parametrize("text", ["Argo", "Tom & Jerry", "a=b", "1-2", "Æblegrød", "'quoted", " =spaced", ""])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert csvsafe.neutralise(text) == text


def test_index_and_header_are_neutralised_too() -> None:
    frame = pd.DataFrame({"=x": [1]}, index=pd.Index(["@Mon"], name="weekday"))
    assert cells(csvsafe.to_csv(frame, index=True)) == [["weekday", "'=x"], ["'@Mon", "1"]]


def test_string_dtype_columns_and_missing_values() -> None:
    frame = pd.DataFrame({"title": pd.Series(["=1", None], dtype="string"), "values": [1.5, 2.0]})
    assert cells(csvsafe.to_csv(frame)) == [["title", "values"], ["'=1", "1.5"], ["", "2.0"]]
