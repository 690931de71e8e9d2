"""The compose file and the systemd unit agree with what the code reads: environment names,
commands, signals, paths and grace periods."""

from __future__ import annotations

import inspect
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from ruamel.yaml import YAML

from monitor.app import daemon
from monitor.cli import app
from monitor.config import load_settings
from monitor.store.database import sqlite_path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "monitor.yaml"


def _cli() -> tuple[set[str], set[str]]:
    """The commands of the CLI and the environment variables its options read."""
    group = typer.main.get_command(app)
    names = set(group.commands)  # type: ignore[attr-defined]
    envvars = {p.envvar for p in group.params if isinstance(p.envvar, str)}
    return names, envvars


def _read_names() -> set[str]:
    """Every environment name the code or the shipped config reads."""
    config_vars = set(re.findall(r"\$\{(\w+)", SHIPPED.read_text()))
    return config_vars | _cli()[1]


def _signals() -> set[str]:
    """The signals the running daemon handles."""
    return set(re.findall(r"signal\.(SIG[A-Z]+)", inspect.getsource(daemon.serve)))


def _seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+)(s?)", text)
    assert match, text
    return float(match[1])


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_reads_its_database_from_the_environment(compose: dict[str, Any]) -> None:
    commands, _ = _cli()
    daemons = {n: s for n, s in compose["services"].items() if s.get("command") == ["run"]}
    assert set(daemons) == {"newsmonitor", "newsmonitor-pg"}
    for name, service in daemons.items():
        env = service["environment"]
        assert set(env) <= _read_names(), f"{name} sets names nothing reads"
        db = env["NEWSMONITOR_DATABASE"]
        assert db is None or not db.startswith("sqlite"), f"{name}: SQLite URL hard-coded"
        assert service["stop_signal"] in _signals()
        assert _seconds(service["stop_grace_period"]) > daemon.SHUTDOWN_GRACE
        test = service["healthcheck"]["test"]
        assert test[:2] == ["CMD", "newsmonitor"] and test[2] in commands
    # Unset, the image's own default is a file on the volume the service mounts.
    dockerfile = (ROOT / "Dockerfile").read_text()
    default = re.search(r"NEWSMONITOR_DATABASE=(\S+)", dockerfile)
    assert default
    path = sqlite_path(default[1])
    assert path is not None
    assert f"newsmonitor-data:{path.parent}" in compose["services"]["newsmonitor"]["volumes"]


def test_compose_postgres_profile_runs_two_daemons_on_a_healthy_server(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    assert {n for n, s in services.items() if "postgres" in s.get("profiles", [])} == {
        "postgres",
        "newsmonitor-pg",
    }
    assert "profiles" not in services["newsmonitor"]
    server, daemons = services["postgres"], services["newsmonitor-pg"]
    assert server["healthcheck"]["test"][1] == "pg_isready"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in server["volumes"])
    assert daemons["deploy"]["replicas"] == 2
    assert daemons["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert all("healthcheck" in s for s in services.values())
    # The URL the replicas get is one the config accepts, pointing at the compose server.
    url = daemons["environment"]["NEWSMONITOR_DATABASE"]
    url = re.sub(r"\$\{POSTGRES_PASSWORD[^}]*\}", "secret", url)
    monkeypatch.setenv("NEWSMONITOR_DATABASE", url)
    settings = load_settings(SHIPPED)
    assert settings.database.startswith("postgresql+psycopg://newsmonitor:secret@postgres:5432/")
    assert server["environment"]["POSTGRES_DB"] == settings.database.rsplit("/", 1)[1]


def _unit() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "newsmonitor.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_systemd_unit_runs_the_daemon_hardened() -> None:
    unit = _unit()
    commands, _ = _cli()
    [start] = unit["ExecStart"]
    argv = shlex.split(start)
    assert Path(argv[0]).name == "newsmonitor" and argv[1] in commands and argv[1] == "run"
    assert unit["Type"] in (["exec"], ["notify"])
    [reload] = unit["ExecReload"]
    assert "-HUP" in reload and "SIGHUP" in _signals()
    assert unit["KillSignal"] == ["SIGTERM"] and "SIGTERM" in _signals()
    assert float(unit["TimeoutStopSec"][0]) > daemon.SHUTDOWN_GRACE
    env = dict(e.split("=", 1) for e in unit["Environment"])
    assert set(env) <= _read_names()
    # The SQLite file lives in the state directory systemd makes for the dynamic user.
    [state] = unit["StateDirectory"]
    path = sqlite_path(env["NEWSMONITOR_DATABASE"])
    assert path is not None and path.parent == Path("/var/lib") / state
    for key, value in {
        "DynamicUser": "yes",
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
    }.items():
        assert unit[key] == [value], key
