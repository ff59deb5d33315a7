"""Shared helpers for the benchmarks: machine facts and course-format CSV export."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
from pathlib import Path

import pandas as pd

from moviedash.ingest.demo import generate_events

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def course_escape(text: str) -> str:
    """Write non-ASCII Latin-1 letters as the course file does: ``å`` → ``<e5>``."""
    return _NON_ASCII.sub(lambda m: f"<{ord(m.group(0)):02x}>", text)


def write_course_csv(path: Path, events: int, seed: int = 42, header: bool = False) -> int:
    """Export ``events`` demo events to ``path`` in the course's CSV format.

    No header row by default (as the course's file); ``header`` adds one naming the
    13 columns in table order (``moviedash load`` accepts both, and ``psql``'s
    ``\\copy ... CSV HEADER`` and ``sqlite3``'s ``.import --skip 1`` skip it).
    """
    written = 0
    with path.open("w", encoding="ascii", newline="") as fh:
        for number, frame in enumerate(generate_events(events, seed)):
            frame = frame.copy()
            frame["title"] = frame["title"].map(lambda t: course_escape(t) if isinstance(t, str) else t)
            frame.to_csv(fh, header=header and number == 0, index=False)
            written += len(frame)
    return written


def machine() -> str:
    """One line describing this machine, for results files."""
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    mem = ""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(line for line in lines if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return (
        f"{os.cpu_count()} CPUs ({model}){mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, pandas {pd.__version__}"
    )


def machine_facts() -> dict[str, str | int | float]:
    """The machine as separate facts (CPU model, cores, RAM, kernel, Python, SQLite), for JSON results."""
    model = platform.processor() or "unknown CPU"
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    ram_gib = 0.0
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        ram_gib = round(kb / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count() or 0,
        "ram_gib": ram_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "pandas": pd.__version__,
    }
