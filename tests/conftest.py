"""Shared test set-up: offline tools, and one demo home built once per session for integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

# Two quarters are enough for previous ranks and rank changes; a small scale keeps the suite quick.
INTEGRATION_QUARTERS = ("2026-Q1", "2026-Q2")
INTEGRATION_SCALE = 0.25


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory):
    """A home with demo feeds for two quarters, both refreshed and published (approved by a named steward)."""
    from pipelines.demo import generate_demo
    from pipelines.home import Home
    from pipelines.runner import run_refresh

    home = Home.from_env(Path(tmp_path_factory.mktemp("chamdiem")) / "home").ensure()
    summary = generate_demo(home.landing, quarters=INTEGRATION_QUARTERS, scale=INTEGRATION_SCALE)
    outcomes = {q: run_refresh(home, q, approved_by="Kiểm thử viên") for q in INTEGRATION_QUARTERS}
    return home, summary, outcomes
