"""Lighthouse on the dashboard: performance and accessibility, desktop and mobile.

    python -m benchmarks.lighthouse                      # demo database, 3 runs per preset
    python -m benchmarks.lighthouse --runs 5 --out benchmarks/results-lighthouse
    python -m benchmarks.lighthouse --runs 3 --baseline HEAD~1   # paired with an earlier commit

Needs Node.js with npm and Debian's Chromium (``/usr/bin/chromium``, or
``CHROME_PATH``).  Lighthouse itself is installed from the npm registry into a
throwaway folder (``--tool-dir`` to keep it between runs), pinned below.
The server is ``moviedash serve`` (waitress, as in production) on a demo
database, on 127.0.0.1.  Each preset is run ``--runs`` times against the same
server (every run starts a fresh browser profile: a cold load); the run with
the median performance score is reported, with the spread of all runs.
Writes ``OUT.json`` (every run's figures) and ``OUT.md`` (the table).

``--baseline REV`` also serves the commit REV (``git archive`` into the
scratch folder, on the same database) and alternates the runs between the two
servers, so both meet the same machine load: the scores of this shared
machine swing with it far more than between two nearby commits.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator
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
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "-E", LIGHTHOUSE],
            cwd=tool_dir,
            check=True,
            timeout=600,
        )
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
    command = [
        str(binary),
        url,
        *PRESETS[preset],
        "--only-categories=performance,accessibility",
        f"--chrome-flags={CHROME_FLAGS}",
        "--output=json",
        f"--output-path={out}",
        "--quiet",
    ]
    subprocess.run(command, env=env, check=True, timeout=600)
    return summarise(json.loads(out.read_text()))


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One preset's runs: the run with the median performance score, and the spread."""
    ordered = sorted(runs, key=lambda r: r["performance"])
    return {
        "median run": ordered[len(ordered) // 2],
        "performance, every run": [r["performance"] for r in runs],
        "performance median": statistics.median(r["performance"] for r in runs),
        "runs": runs,
    }


def short_commit(rev: str) -> str:
    out = subprocess.run(["git", "rev-parse", "--short", rev], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def checkout(rev: str, folder: Path) -> Path:
    """The files of commit ``rev`` in ``folder``, importable as they would be installed.

    The top-level ``assets/`` is the package ``moviedash.assets`` (see
    pyproject.toml's package-dir): it is moved there, so the baseline serves
    its own assets and not those of the editable install.
    """
    archive = subprocess.run(["git", "archive", "--format=tar", rev], capture_output=True, check=True).stdout
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    if (folder / "assets" / "__init__.py").exists() and not (folder / "moviedash" / "assets").exists():
        (folder / "assets").rename(folder / "moviedash" / "assets")
    return folder


def serve(stack: contextlib.ExitStack, db: Path, log: Path, source: Path | None = None) -> str:
    """Start ``moviedash serve`` on ``db`` (from the checkout ``source``: this tree if ``None``); its URL."""
    with run_from(source):
        server = stack.enter_context(Server(db, log))
    url = f"http://127.0.0.1:{server.port}/"
    urllib.request.urlopen(url, timeout=60).read()  # the server's own first-request set-up, not the browser's
    return url


@contextlib.contextmanager
def run_from(source: Path | None) -> Iterator[None]:
    """While a server process is started: the checkout ``source`` as its working folder and first on its
    ``PYTHONPATH``, so its imports come from there (``python -m`` puts the working folder first)."""
    if source is None:
        yield
        return
    before, folder = os.environ.get("PYTHONPATH"), Path.cwd()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), before]))
    os.chdir(source)
    try:
        yield
    finally:
        os.chdir(folder)
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


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
    if "baseline" in result:
        lines += paired(result)
    return "\n".join(lines) + "\n"


def paired(result: dict[str, Any]) -> list[str]:
    """The table of this commit against the baseline, measured alternately in the same sitting (medians)."""
    this, base = result["presets"], result["baseline"]["presets"]
    lines = [
        "",
        f"Paired with commit `{result['baseline']['commit']}`, runs alternating between the two servers "
        f"(medians of {result['runs']}):",
        "",
        f"| | `{result['baseline']['commit']}` desktop | `{result['commit']}` desktop "
        f"| `{result['baseline']['commit']}` mobile | `{result['commit']}` mobile |",
        "|---|---|---|---|---|",
    ]

    def median(preset: dict[str, Any], name: str) -> float:
        return statistics.median(run[name] for run in preset["runs"])

    def cells(name: str, fmt: Any) -> str:
        return " | ".join(fmt(median(side[preset], name)) for preset in PRESETS for side in (base, this))

    lines.append(
        "| performance (runs) | "
        + " | ".join(
            f"{side[preset]['performance median']:g} ({', '.join(map(str, side[preset]['performance, every run']))})"
            for preset in PRESETS
            for side in (base, this)
        )
        + " |"
    )
    for name in ("LCP", "TBT", "FCP", "Speed Index"):
        lines.append(f"| {name} (simulated) | {cells(name, lambda v: f'{v:,.0f} ms')} |")
    lines.append(f"| CLS | {cells('CLS', lambda v: f'{v:.3f}')} |")
    lines.append(f"| transferred | {cells('bytes', lambda v: f'{v / 1e6:.2f} MB')} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="demo database size")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per preset (median reported)")
    parser.add_argument("--tool-dir", type=Path, help="where to install Lighthouse (default: a temporary folder)")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results-lighthouse"), help="OUT.json and OUT.md are written"
    )
    parser.add_argument("--baseline", metavar="REV", help="also measure this git commit, runs alternating (paired)")
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
            "commit": short_commit("HEAD"),
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
        with contextlib.ExitStack() as stack:
            urls = {"this": serve(stack, db, scratch / "server.log")}
            if args.baseline:
                result["baseline"] = {"commit": short_commit(args.baseline), "presets": {}}
                urls["baseline"] = serve(
                    stack, db, scratch / "baseline.log", checkout(args.baseline, scratch / "baseline")
                )
            for preset in PRESETS:
                runs: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
                for number in range(args.runs):
                    # Alternate which server goes first, so neither always meets the same moment.
                    order = list(urls) if number % 2 == 0 else list(reversed(urls))
                    for name in order:
                        figures = run_lighthouse(binary, urls[name], preset, scratch / f"{name}-{preset}-{number}.json")
                        print(
                            f"{name} {preset} run {number + 1}: performance {figures['performance']}, accessibility "
                            f"{figures['accessibility']}, LCP {figures['LCP']:,.0f} ms, TBT {figures['TBT']:,.0f} ms, "
                            f"CLS {figures['CLS']:.3f}, {figures['bytes'] / 1e6:.2f} MB",
                            flush=True,
                        )
                        runs[name].append(figures)
                result["presets"][preset] = summary(runs["this"])
                if args.baseline:
                    result["baseline"]["presets"][preset] = summary(runs["baseline"])
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
