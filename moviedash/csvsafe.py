"""CSV that a spreadsheet opens as data: text cells cannot become formulas.

Titles come from the viewing log, so anyone who can get a row into it controls
them.  A cell such as ``=cmd|' /C calc'!A0``, ``+1+HYPERLINK(...)`` or
``@SUM(1)`` is evaluated by Excel, LibreOffice and Google Sheets when the export
is opened.  As OWASP recommends ("CSV Injection"), every text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single
quote, which spreadsheets show as text.  Numeric columns are left alone, so
counts stay numbers.  Both the ``format=csv`` routes and the dashboard's CSV
downloads write through :func:`to_csv`.
"""
from __future__ import annotations

import csv
from typing import Any

import pandas as pd

#: Characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text_column(values: pd.Index | pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values))


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells, index and header are neutralised (numbers untouched)."""
    out = df.copy()
    for column in out.columns:
        if _text_column(out[column]):
            out[column] = out[column].map(neutralise)
    if _text_column(out.index):
        out.index = out.index.map(neutralise)
    out.columns = out.columns.map(neutralise)
    return out


def _has_carriage_return(df: pd.DataFrame) -> bool:
    values = [*df.columns, *df.index]
    for column in df.columns:
        if _text_column(df[column]):
            values.extend(df[column])
    return any(isinstance(v, str) and "\r" in v for v in values)


def to_csv(df: pd.DataFrame, *, index: bool = False) -> str:
    """``df`` as CSV text (``DataFrame.to_csv``), safe to open in a spreadsheet.

    A text cell holding a carriage return is quoted (with every other text
    cell of that file): the csv module quotes only the line terminator
    (``\n``), and a bare ``\r`` would split the row in a reader.
    """
    safe = safe_frame(df)
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    return safe.to_csv(index=index, quoting=quoting)
