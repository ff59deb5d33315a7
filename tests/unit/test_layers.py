"""The package's layers: a module imports only from its own layer or below, and imports sit at module level.

:data:`LAYERS` is the one statement of the order (README "Project layout"
describes the same layers).  Each entry is a top-level module or subpackage of
``moviedash``; inside one entry (e.g. within ``store/``) any import is allowed.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "moviedash"

#: Bottom to top.  A module may import from its own layer or any layer below it.
LAYERS: list[set[str]] = [
    # Pure building blocks: error types, text escapes, the declared dimensions and measures,
    # figures without data, CSV safety, the rule that splits a title into show and episode.
    {"errors", "escapes", "dimensions", "metrics", "charts", "csvsafe", "shows", "show_charts", "viewer_charts",
     "concentration", "binge_charts"},
    # Query parameters, the HTTP server, text summaries, and the only code that knows an engine.
    {"params", "server", "summaries", "store"},
    # Periods, the view state of an address, atomic output files, the data-quality settings.
    {"periods", "viewstate", "outputs", "settings"},
    # Rollup tables: DDL, streaming aggregator, maintenance, serving queries.
    {"rollups"},
    # Answers (rollup or raw), foreign-database checks, loading and the demo; binge sessions.
    {"analysis", "foreign", "ingest", "binge"},
    # New vs returning viewers and cohorts (issue 15): their answers, figures and cards.
    {"audience", "audience_charts", "audience_cards"},
    # Data + figure pipelines, engagement answers, why a selection is empty.
    {"pipeline", "emptiness", "engagement", "engagement_cards", "dataquality", "showstats", "series_cards",
     "viewers", "viewer_cards", "binge_cards"},
    # Reports, the figures API, the Flask face.
    {"report", "figures", "web"},
    {"auth"},
    {"dashboard"},
    # The composition root and the entry points.
    {"factory", "cli", "__init__"},
]

#: Function-level imports kept on purpose, each with its reason.  Any other is a failure.
DEFERRED_IMPORTS: dict[tuple[str, str], str] = {
    # The command line imports Dash, Flask, plotly, pandas only for the commands that need them:
    # `moviedash load` / `users` start in ~0.5 s instead of ~2.5 s (measured: `python -c "import moviedash.cli"`
    # against importing what the commands use).
    ("cli.py", "ensure_demo_database"): "start-up time of the command line",
    ("cli.py", "run_server"): "start-up time of the command line",
    ("cli.py", "serve"): "start-up time of the command line",
    ("cli.py", "load"): "start-up time of the command line",
    ("cli.py", "demo"): "start-up time of the command line",
    ("cli.py", "report"): "start-up time of the command line",
    ("cli.py", "users_add"): "start-up time of the command line",
    ("cli.py", "users_list"): "start-up time of the command line",
    ("cli.py", "users_remove"): "start-up time of the command line",
    ("cli.py", "tokens_create"): "start-up time of the command line",
    ("cli.py", "tokens_list"): "start-up time of the command line",
    ("cli.py", "tokens_revoke"): "start-up time of the command line",
    ("cli.py", "settings_show"): "start-up time of the command line",
    ("cli.py", "_report_change"): "start-up time of the command line",
    # `import moviedash` (e.g. by `python -m moviedash.cli load`) must not pull in Dash and Flask.
    ("__init__.py", "__getattr__"): "start-up time of the command line",
    # kaleido (and its choreographer) is the optional `export` extra: imported only when exporting images.
    ("report/build.py", "export_images"): "optional dependency",
}


def layer_of(component: str) -> int:
    for index, layer in enumerate(LAYERS):
        if component in layer:
            return index
    raise AssertionError(f"moviedash.{component} is in no layer: add it to LAYERS in {__file__}")


def component_of(path: Path) -> str:
    """``store`` for moviedash/store/sqlite.py, ``analysis`` for moviedash/analysis.py."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_components(path: Path, tree: ast.Module) -> set[str]:
    """The top-level components of moviedash that the module at ``path`` imports."""
    package = ["moviedash", *path.relative_to(PACKAGE).parent.parts]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[list[str]] = []
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = [*base, *(node.module.split(".") if node.module else [])]
            else:
                module = (node.module or "").split(".")
            # `from .. import analysis`: the names may be modules.
            targets = [[*module, alias.name] for alias in node.names] if module == ["moviedash"] else [module]
        for target in targets:
            if target[0] == "moviedash" and len(target) > 1:
                is_module = (PACKAGE / f"{target[1]}.py").is_file() or (PACKAGE / target[1]).is_dir()
                found.add(target[1] if is_module else "__init__")  # `from . import create_app`: the package's face
    return found


def modules() -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py"))
    assert len(found) > 40  # the walk sees the package
    return found


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for path in modules():
        own = component_of(path)
        for other in imported_components(path, ast.parse(path.read_text(encoding="utf-8"))):
            if other != own and layer_of(other) > layer_of(own):
                upward.append(f"{path.relative_to(PACKAGE)} ({own}, layer {layer_of(own) + 1}) imports "
                              f"moviedash.{other} (layer {layer_of(other) + 1})")
    assert not upward, "\n".join(upward)


def function_level_imports(tree: ast.Module) -> list[tuple[str, int]]:
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found.append((function.name, node.lineno))
    return found


def test_imports_sit_at_module_level_except_the_listed_deferred_ones() -> None:
    unlisted = []
    seen = set()
    for path in modules():
        name = path.relative_to(PACKAGE).as_posix()
        for function, line in function_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            seen.add((name, function))
            if (name, function) not in DEFERRED_IMPORTS:
                unlisted.append(f"{name}:{line} imports inside {function}()")
    assert not unlisted, "\n".join(unlisted)
    assert not set(DEFERRED_IMPORTS) - seen, "listed but no longer deferred: remove from DEFERRED_IMPORTS"


def test_the_check_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    """The walk resolves the import forms the package uses (a check that saw nothing would always pass)."""
    path = PACKAGE / "web" / "example.py"
    source = (
        "from .. import analysis, rollups\nfrom ..store import Connection\nfrom .context import get_connection\n"
        "import moviedash.dashboard.ids\nfrom moviedash import cli, create_app\nimport pandas\n"
    )
    assert imported_components(path, ast.parse(source)) == {
        "analysis", "rollups", "store", "web", "dashboard", "cli", "__init__"
    }
    nested = "def f():\n    from . import x\n\nasync def g():\n    import os\n"
    assert function_level_imports(ast.parse(nested)) == [("f", 2), ("g", 5)]
    assert layer_of("dashboard") > layer_of("web") > layer_of("analysis") > layer_of("store") > layer_of("errors")
