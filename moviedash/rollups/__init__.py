"""Rollups: small pre-aggregated tables kept current inside every load (see :mod:`.tables`).

- :mod:`.tables` -- the tables, their schema version and :func:`status`;
- :mod:`.aggregator` -- the streaming :class:`Aggregator` the loader and the demo feed;
- :mod:`.maintain` -- :func:`refresh` inside the loading transaction;
- :mod:`.serve` -- the serving queries, answering like the raw-table SQL;
- :mod:`.packing` -- the compact packing of the per-title engagement arrays;
- :mod:`.viewer_sums` -- the per-viewer sums (plays, minutes) per (day or month, dims), for concentration.
"""
from .aggregator import FED_COLUMNS, Aggregator
from .maintain import clear, rebuild, refresh, refresh_derived, store_defaults
from .serve import (
    BINNED,
    SEGMENT_COLUMNS,
    VIEWS,
    bin_rows,
    binned_rows,
    engagement_rows,
    has_value,
    heatmap_rows,
    month_bounds,
    options,
    quantile_rows,
    rank_by_shown_title,
    segment_keys,
    series_rows,
    span_row,
    stored_result,
    title_deciles,
    title_engagement,
    title_names,
    top_rows,
    totals_row,
    view_keys,
    viewer_totals,
    where,
)
from .tables import (
    ABOUT_COUNTS,
    BIN_COLUMNS,
    DECILE_UNITS,
    DECILES,
    ENGAGEMENT_COLUMNS,
    MAX_MINUTES,
    MINUTES,
    SCHEMA_VERSION,
    TABLES,
    TITLE_ENGAGEMENT_COLUMNS,
    TOP_STORED,
    Status,
    schema,
    status,
)

__all__ = [
    "ABOUT_COUNTS", "BINNED", "BIN_COLUMNS", "DECILES", "DECILE_UNITS", "ENGAGEMENT_COLUMNS", "FED_COLUMNS",
    "MAX_MINUTES", "MINUTES",
    "SCHEMA_VERSION", "SEGMENT_COLUMNS", "TABLES", "TITLE_ENGAGEMENT_COLUMNS", "TOP_STORED", "VIEWS",
    "Aggregator", "Status", "bin_rows", "binned_rows", "clear", "engagement_rows",
    "has_value", "heatmap_rows", "month_bounds", "options", "quantile_rows", "rank_by_shown_title", "rebuild",
    "refresh", "refresh_derived",
    "schema", "segment_keys", "series_rows", "span_row", "status", "store_defaults", "stored_result", "title_deciles",
    "title_engagement", "title_names", "top_rows", "totals_row", "view_keys", "viewer_totals", "where",
]
