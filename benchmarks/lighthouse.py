"""Lighthouse on the dashboard: performance and accessibility, desktop and mobile.

    python -m benchmarks.lighthouse                      # demo database, 3 runs per preset
    python -m benchmarks.lighthouse --runs 5 --out benchmarks/results-lighthouse

Needs Node.js with npm and Debian's Chromium (``/usr/bin/chromium``, or
``CHROME_PATH``).  Lighthouse itself is installed from the npm registry into a
throwaway folder (``--tool-dir`` to keep it between runs), pinned below.
The server is ``moviedash serve`` (waitress, as in production) on a demo
database, on 127.0.0.1.  Each preset is run ``--runs`` times against the same
server (every run starts a fresh browser profile: a cold load); the run with
the median performance score is reported, with the spread of all runs.
Writes ``OUT.json`` (every run's figures) and ``OUT.md`` (the table).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import machine
from benchmarks.server import Server

LIGHTHOUSE = "lighthouse@12.2.3"  # 13.x needs Node 22; Debian 12 has Node 20
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
PRESETS = {"desktop": ["--preset=desktop"], "mobile": ["--form-factor=mobile"]}  # mobile is Lighthouse's default
TARGETS = {"desktop": 90, "mobile": 70}
BYTES_BUDGET = 1_500_000
METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "Speed Index",
    "interactive": "TTI",
}


def install_lighthouse(tool_dir: Path) -> Path:
    """``node_modules/.bin/lighthouse`` in ``tool_dir``, installed with npm if missing."""
    binary = tool_dir / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        print(f"lighthouse: npm install {LIGHTHOUSE} into {tool_dir}", flush=True)
        tool_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "-E", LIGHTHOUSE],
                       cwd=tool_dir, check=True, timeout=600)
    return binary


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """The figures kept from one Lighthouse JSON report."""
    audits = report["audits"]
    observed = audits["metrics"]["details"]["items"][0]
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        **{name: audits[key]["numericValue"] for key, name in METRICS.items()},
        "bytes": audits["total-byte-weight"]["numericValue"],
        "requests": len(audits["network-requests"]["details"]["items"]),
        # What this browser actually saw (unthrottled), beside Lighthouse's simulated figures.
        "observed LCP": observed["observedLargestContentfulPaint"],
        "observed load": observed["observedLoad"],
        "benchmark index": report["environment"]["benchmarkIndex"],
        "lighthouse": report["lighthouseVersion"],
        "user agent": report["environment"]["hostUserAgent"],
    }


def run_lighthouse(binary: Path, url: str, preset: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    command = [str(binary), url, *PRESETS[preset], "--only-categories=performance,accessibility",
               f"--chrome-flags={CHROME_FLAGS}", "--output=json", f"--output-path={out}", "--quiet"]
    subprocess.run(command, env=env, check=True, timeout=600)
    return summarise(json.loads(out.read_text()))


def public_arguments(argv: list[str] | None) -> list[str]:
    """The command's arguments as recorded in the results.

    Without ``--tool-dir`` (a local folder; no effect on them).
    """
    given = list(argv if argv is not None else sys.argv[1:])
    kept: list[str] = []
    skip = False
    for argument in given:
        if skip:
            skip = False
        elif argument == "--tool-dir":
            skip = True
        elif not argument.startswith("--tool-dir="):
            kept.append(argument)
    return kept


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Lighthouse {result['lighthouse']} ({result['chromium']}), {result['date']}, commit `{result['commit']}`",
        "",
        "```",
        f"machine: {result['machine']}",
        f"command: {result['command']}",
        f"database: demo, {result['events']:,} events; server: moviedash serve (waitress) on 127.0.0.1",
        f"load average (1, 5, 15 min) before: {result['load before']}, after: {result['load after']}",
        "```",
        "",
        "| | desktop | mobile | target |",
        "|---|---|---|---|",
    ]
    chosen = {preset: result["presets"][preset]["median run"] for preset in PRESETS}
    spread = {preset: result["presets"][preset]["performance, every run"] for preset in PRESETS}
    lines.append(
        f"| performance (median of {result['runs']}) | {chosen['desktop']['performance']} "
        f"(runs: {', '.join(map(str, spread['desktop']))}) | {chosen['mobile']['performance']} "
        f"(runs: {', '.join(map(str, spread['mobile']))}) | ≥ {TARGETS['desktop']} desktop, "
        f"≥ {TARGETS['mobile']} mobile |"
    )
    lines.append(
        f"| accessibility | {chosen['desktop']['accessibility']} | {chosen['mobile']['accessibility']} | ≥ 95 |"
    )
    lines.append(
        f"| transferred on a cold load | {chosen['desktop']['bytes'] / 1e6:.2f} MB "
        f"({chosen['desktop']['requests']} requests) | {chosen['mobile']['bytes'] / 1e6:.2f} MB | ≤ 1.5 MB |"
    )
    for name in METRICS.values():
        unit = "" if name == "CLS" else " ms"
        fmt = (lambda v: f"{v:.3f}") if name == "CLS" else (lambda v: f"{v:,.0f}")
        lines.append(
            f"| {name} (simulated) | {fmt(chosen['desktop'][name])}{unit} | {fmt(chosen['mobile'][name])}{unit} | |"
        )
    lines.append(
        f"| LCP as observed (no throttling) | {chosen['desktop']['observed LCP']:,.0f} ms "
        f"| {chosen['mobile']['observed LCP']:,.0f} ms | |"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="demo database size")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per preset (median reported)")
    parser.add_argument("--tool-dir", type=Path, help="where to install Lighthouse (default: a temporary folder)")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results-lighthouse"), help="OUT.json and OUT.md are written"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="moviedash-lighthouse-") as scratch_name:
        scratch = Path(scratch_name)
        binary = install_lighthouse(args.tool_dir or scratch / "tool")
        db = scratch / "moviedb"
        subprocess.run(
            [sys.executable, "-m", "moviedash.cli", "demo", "--db", str(db), "--events", str(args.events)], check=True
        )
        result: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
            ).stdout.strip(),
            "machine": machine(),
            "chromium": subprocess.run(
                [os.environ.get("CHROME_PATH", "/usr/bin/chromium"), "--version"], capture_output=True, text=True
            ).stdout.strip(),
            "command": " ".join(["python -m benchmarks.lighthouse", *public_arguments(argv)]),
            "events": args.events,
            "runs": args.runs,
            "load before": load_average(),
            "presets": {},
        }
        with Server(db, scratch / "server.log") as server:
            url = f"http://127.0.0.1:{server.port}/"
            urllib.request.urlopen(url, timeout=60).read()  # the server's own first-request set-up, not the browser's
            for preset in PRESETS:
                runs = []
                for number in range(args.runs):
                    figures = run_lighthouse(binary, url, preset, scratch / f"{preset}-{number}.json")
                    print(
                        f"{preset} run {number + 1}: performance {figures['performance']}, accessibility "
                        f"{figures['accessibility']}, LCP {figures['LCP']:,.0f} ms, TBT {figures['TBT']:,.0f} ms, "
                        f"CLS {figures['CLS']:.3f}, {figures['bytes'] / 1e6:.2f} MB",
                        flush=True,
                    )
                    runs.append(figures)
                ordered = sorted(runs, key=lambda r: r["performance"])
                result["presets"][preset] = {
                    "median run": ordered[len(ordered) // 2],
                    "performance, every run": [r["performance"] for r in runs],
                    "performance median": statistics.median(r["performance"] for r in runs),
                    "runs": runs,
                }
        result["load after"] = load_average()
        result["lighthouse"] = result["presets"]["desktop"]["median run"]["lighthouse"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    args.out.with_suffix(".md").write_text("# Lighthouse on the dashboard\n\n" + table)
    print(table)
    met = all(result["presets"][p]["median run"]["performance"] >= TARGETS[p] for p in PRESETS) and all(
        result["presets"][p]["median run"]["bytes"] <= BYTES_BUDGET for p in PRESETS
    )
    print("targets met" if met else "targets missed")
    return 0 if met else 1


if __name__ == "__main__":
    shutil.which("npm") or sys.exit("lighthouse: needs Node.js and npm (apt-get install nodejs npm)")
    sys.exit(main())
