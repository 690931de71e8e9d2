"""Packaging and deployment files say what docs/operations.md promises (no Docker engine
here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_the_daemon_with_config_mounted_and_history_on_a_named_volume() -> None:
    """The compose service mounts config read-only and keeps /data on a named volume."""
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["newsmonitor"]
    assert service["build"] == "."
    assert service["command"] == ["run"]
    volumes = [v.split(":") for v in service["volumes"]]
    assert ["./config", "/config", "ro"] in volumes
    named = [v for v in volumes if v[1] == "/data"]
    assert len(named) == 1
    assert named[0][0] in compose["volumes"]
    env = service["environment"]
    assert env["NEWSMONITOR_CONFIG"] == "/config/monitor.yaml"
    # From the user's environment; unset there, the image's default: SQLite on /data.
    assert env["NEWSMONITOR_DATABASE"] is None
    assert (
        "NEWSMONITOR_DATABASE=sqlite:////data/newsmonitor.db" in (ROOT / "Dockerfile").read_text()
    )
    assert (ROOT / "config" / "monitor.yaml").exists()
    text = " ".join((ROOT / "docs" / "operations.md").read_text().split())
    assert "mounts `./config` read-only at `/config`" in text
    assert f"the named volume `{named[0][0]}`" in text


def test_dockerfile_runs_the_console_script_as_a_non_root_user() -> None:
    """The image's entry point is the newsmonitor command, run unprivileged, data on /data."""
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["newsmonitor"\]$', text, re.M)
    assert re.search(r'^CMD \["run"\]$', text, re.M)
    assert re.search(r"^USER newsmonitor$", text, re.M)
    assert 'VOLUME ["/data"]' in text


def test_pyproject_declares_the_console_script_and_ranges() -> None:
    """The distribution installs `newsmonitor` and pins compatible ranges, not open ones."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "newsmonitor"
    assert project["scripts"]["newsmonitor"] == "monitor.cli:main"
    assert project["requires-python"] == ">=3.11"
    for requirement in project["dependencies"]:
        assert ">=" in requirement and "<" in requirement, requirement
    assert "apscheduler>=3.11,<4" in project["dependencies"]
