"""Configuration: YAML files in, validated `Settings` out, each problem as `file:line: key: msg`."""

from __future__ import annotations

from monitor.config.loader import load_settings
from monitor.config.units import parse_duration, parse_size

__all__ = ["load_settings", "parse_duration", "parse_size"]
