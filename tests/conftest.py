"""Shared fixtures. Dates are pinned so tests do not change verdict as the calendar moves."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from stacks.settings import TODAY_ENV, Settings, load_settings_file

ROOT = Path(__file__).resolve().parents[1]
# A fixed "today" for every test: sunset and waiver rules compare against it.
TODAY = date(2026, 11, 29)
os.environ.setdefault(TODAY_ENV, TODAY.isoformat())


@pytest.fixture(autouse=True)
def _private_diff_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own `preflight diff` cache (preflight/diff_cache.py): a plan cached by one
    test, or by a run before this one, never stands in for a synthesis another test is about."""
    monkeypatch.setenv("PREFLIGHT_CACHE_DIR", str(tmp_path / "preflight-cache"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def prod_settings() -> Settings:
    return load_settings_file(ROOT / "Pulumi.prod.yaml", today=TODAY)


@pytest.fixture(scope="session")
def staging_settings() -> Settings:
    return load_settings_file(ROOT / "Pulumi.staging.yaml", today=TODAY)
