"""Reports: the dashboard's current view as one self-contained HTML file, or its charts as images."""
from .build import (
    DEFAULT_TITLE,
    PAGE_CHOICES,
    REPORT_PAGES,
    ReportSpec,
    about_lines,
    chart_sections,
    describe_selection,
    export_images,
    render_html,
    report_pages,
)

__all__ = [
    "DEFAULT_TITLE", "PAGE_CHOICES", "REPORT_PAGES", "ReportSpec", "about_lines", "chart_sections",
    "describe_selection", "export_images", "render_html", "report_pages",
]
