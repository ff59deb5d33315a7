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


def write_course_csv(path: Path, events: int, seed: int = 42) -> int:
    """Export ``events`` demo events to ``path`` in the course's CSV format (no header)."""
    written = 0
    with path.open("w", encoding="ascii", newline="") as fh:
        for frame in generate_events(events, seed):
            frame = frame.copy()
            frame["title"] = frame["title"].map(lambda t: course_escape(t) if isinstance(t, str) else t)
            frame.to_csv(fh, header=False, index=False)
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
