"""The layering of design.md §3: a pure core, adapters that don't know each other, entry points."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "monitor"
CORE = [
    "monitor.core.egress",
    "monitor.core.errors",
    "monitor.core.model",
    "monitor.core.text",
    "monitor.core.query",
    "monitor.core.render",
    "monitor.core.pipeline",
    "monitor.core.secrets",
    "monitor.core.stories",
    "monitor.core.stories.index",
]
ADAPTERS = {"sources", "store", "notify", "config"}
ENTRY_POINTS = {
    "monitor.app.daemon",
    "monitor.cli",
    "monitor.cli.common",
    "monitor.cli.daemon",
    "monitor.cli.history",
    "monitor.cli.listing",
    "monitor.cli.notify",
    "monitor.cli.replay",
    "monitor.cli.rules",
    "monitor.app.demo",
    "monitor.__main__",
}
THIRD_PARTY = [
    "httpx",
    "sqlalchemy",
    "apprise",
    "feedparser",
    "apscheduler",
    "alembic",
    "typer",
    "rich",
    "pydantic",
    "ruamel",
]


def test_core_imports_no_io_library_and_no_adapter() -> None:
    """Importing the core in a fresh interpreter loads no third-party or adapter module."""
    code = f"import sys\nfor m in {CORE!r}: __import__(m)\nprint('\\n'.join(sorted(sys.modules)))\n"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.split()
    )
    leaked = {m for m in loaded if m.split(".")[0] in THIRD_PARTY}
    leaked |= {m for m in loaded if m.startswith("monitor.") and m.split(".")[1] in ADAPTERS}
    assert leaked == set()


def _runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: no dependency at run time
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.add(child.module)
            visit(child)

    visit(tree)
    return {name for name in found if name.startswith("monitor")}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_adapters_do_not_import_each_other_and_nothing_imports_entry_points() -> None:
    """An adapter uses the core only; only entry points import the daemon or the CLI."""
    problems = []
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        ring = module.split(".")[1] if module.count(".") else ""
        for imported in _runtime_imports(path):
            target = imported.split(".")[1] if imported.count(".") else ""
            if ring in ADAPTERS and target in ADAPTERS and target != ring:
                problems.append(f"{module} imports {imported}")
            if imported in ENTRY_POINTS and module not in ENTRY_POINTS:
                problems.append(f"{module} imports entry point {imported}")
    assert problems == []
