"""The rings of design.md §3 as an allowlist: what each room of monitor/ may import; no cycles."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "monitor"
CORE, ADAPTERS = "core", ("sources", "store", "notify", "config")

# Which rooms of monitor/ each room may import at run time ("" is monitor/__init__ itself).
MAY_IMPORT = {
    "core": {"core"},
    **{adapter: {"core", adapter} for adapter in ADAPTERS},
    "app": {"core", *ADAPTERS, "app"},
    "cli": {"", "core", *ADAPTERS, "app", "web", "cli"},
    # The console reads through the store and runs app's use cases; only cli starts it.
    "web": {"core", "store", "app", "web"},
    "": {"", "cli"},  # __main__ runs the command line
}
# Third-party packages each room may import at run time, and why.
THIRD_PARTY = {
    # Pure computation only: templates, story signatures, regexes, keyword automata, crontab maths.
    "core": {"jinja2", "markupsafe", "numpy", "re2", "ahocorasick", "apscheduler"},
    "sources": {"httpx", "httpcore", "feedparser", "fastfeedparser", "lxml", "charset_normalizer"}
    | {"brotli", "trafilatura"},
    "store": {"sqlalchemy", "alembic"},
    "notify": {"apprise", "requests", "apscheduler"},
    "config": {"pydantic", "ruamel", "cssselect"},  # cssselect: page selectors checked on load
    "app": {"apscheduler", "prometheus_client"},
    "web": {"starlette", "uvicorn", "jinja2", "markupsafe", "prometheus_client"},
    "cli": {"typer", "rich", "sqlalchemy"},
    "": set(),
}
# The standard library's ways out of the process, none of which the core may use.
CORE_NO_IO = {
    "asyncio",
    "http",
    "multiprocessing",
    "select",
    "signal",
    "smtplib",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "threading",
    "urllib.request",
}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return ""
    return parts[1]


def _imports(path: Path, *, type_checking: bool) -> set[str]:
    """Absolute names imported by a module; with `type_checking`, those for annotations too."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            annotations_only = isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(
                child.test
            )
            if annotations_only and not type_checking:
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parent, *([base] if base else [])])
                # `from a import b` imports the module a.b when there is one, else a.
                for alias in child.names:
                    name = f"{base}.{alias.name}"
                    found.add(name if name in MODULES else base)
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def test_every_room_has_a_ring() -> None:
    """A new folder of monitor/ is placed in a ring here (and named in ARCHITECTURE.md)."""
    rooms = {_room(module) for module in MODULES}
    assert rooms - MAY_IMPORT.keys() == set()
    assert rooms - THIRD_PARTY.keys() == set()
    architecture = (ROOT / "ARCHITECTURE.md").read_text()
    assert {room for room in rooms if room and f"`{room}/`" not in architecture} == set()


def test_each_room_imports_only_what_its_ring_allows() -> None:
    """Ring 0 imports nothing outward, adapters only the core, and third parties are listed."""
    problems = []
    for module, path in sorted(MODULES.items()):
        room = _room(module)
        for name in sorted(_imports(path, type_checking=False)):
            top = name.split(".")[0]
            if top == "monitor":
                target = _room(name)
                if target not in MAY_IMPORT[room]:
                    problems.append(f"{module} imports {name}")
            elif top == "__future__":
                continue
            elif top in sys.stdlib_module_names:
                if room == CORE and (name in CORE_NO_IO or top in CORE_NO_IO):
                    problems.append(f"{module} imports {name}, an I/O module")
            elif top not in THIRD_PARTY[room]:
                problems.append(f"{module} imports {name}, not on the {room or 'top'} list")
    assert problems == []


def test_no_import_cycles_annotations_included() -> None:
    """No module imports itself through others, counting imports made only for annotations."""
    graph = {
        module: {n for n in _imports(path, type_checking=True) if n in MODULES} - {module}
        for module, path in MODULES.items()
    }
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_the_core_loads_no_io_library_and_no_adapter() -> None:
    """Importing every core module in a fresh interpreter loads nothing outside its ring."""
    core = sorted(m for m in MODULES if _room(m) == CORE)
    code = f"import sys\nfor m in {core!r}: __import__(m)\nprint('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    outside = {m for m in loaded if m.startswith("monitor.") and _room(m) != CORE}
    # Third-party only: apscheduler's package loads the standard socket module on its own.
    io_libraries = {"httpx", "httpcore", "sqlalchemy", "apprise", "requests", "feedparser"}
    io_libraries |= {"pydantic", "typer", "rich", "alembic", "lxml", "ruamel"}
    leaked = {m for m in loaded if m.split(".")[0] in io_libraries}
    assert (outside, leaked) == (set(), set())


def test_the_checks_see_a_forbidden_import() -> None:
    """The scanner resolves relative and `from a import b` imports, so a stray one is caught."""
    found = _imports(PACKAGE / "app" / "daemon.py", type_checking=False)
    assert "monitor.app.wiring" in found
    assert "monitor.store.repository" in found
    assert "monitor.store" not in MAY_IMPORT["core"]
