"""moviedash: a Plotly Dash dashboard, reports and JSON API over movie/series viewing events."""
from __future__ import annotations

from .factory import create_app

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]
