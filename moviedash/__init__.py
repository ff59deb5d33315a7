"""moviedash: a Plotly Dash dashboard, reports and JSON API over movie/series viewing events."""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line's load and demo need neither Dash nor Flask.
    if name == "create_app":
        from .factory import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
