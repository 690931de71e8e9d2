"""Commands load only what they use: `version` none of the heavy libraries, `check` on the
shipped config neither the channels' nor the database's (the figures are in bench/peer.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.process import ROOT, env

HEAVY = ("apprise", "numpy", "sqlalchemy", "alembic", "httpx", "pydantic", "typer", "jinja2")
PROBE = (
    "import sys; sys.argv = ['newsmonitor', *sys.argv[1:]]\n"
    "from monitor.cli import main\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
    "print(json.dumps([code, sorted(m.split('.')[0] for m in sys.modules)]), file=sys.stderr)"
)


def _loaded(*args: str) -> tuple[object, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + PROBE, *args],
        env=env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return code, set(modules)


def test_version_imports_no_heavy_library() -> None:
    code, modules = _loaded("version")
    assert code == 0
    assert modules.isdisjoint(HEAVY), modules & set(HEAVY)


def test_check_on_the_shipped_config_leaves_the_daemon_s_libraries_alone() -> None:
    code, modules = _loaded("-c", "config/monitor.yaml", "check")
    assert code == 0
    daemon_only = {"apprise", "numpy", "sqlalchemy", "alembic", "httpx"}
    assert modules.isdisjoint(daemon_only), modules & daemon_only


def test_a_start_on_a_current_database_leaves_alembic_alone(tmp_path: Path) -> None:
    """Only a database behind the newest schema needs alembic: a restart is told by one read."""
    config = tmp_path / "monitor.yaml"
    config.write_text(f'database: "sqlite:///{tmp_path / "db.sqlite"}"\n')
    first_code, first = _loaded("-c", str(config), "run", "--once")
    again_code, again = _loaded("-c", str(config), "run", "--once")
    assert (first_code, again_code) == (0, 0)
    assert "alembic" in first
    assert "alembic" not in again
