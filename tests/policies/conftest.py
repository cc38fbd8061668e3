"""Fixtures of the policy-pack tests: the pack on sys.path, the generated prod config, a pack in process."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.policy_config import PACK_DIR, pack_properties
from stacks.settings import Settings

# The CLI runs the pack with its directory on sys.path: modules import as `residency.oci_region`.
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))

from tests.policies.harness import InProcessPack


@pytest.fixture(scope="session")
def prod_properties(prod_settings: Settings) -> dict[str, Any]:
    """The properties stacks.policy_config writes for prod, as JSON data."""
    return json.loads(json.dumps({k: v for k, v in pack_properties(prod_settings).items() if v is not None}))


@pytest.fixture(scope="session")
def pack() -> InProcessPack:
    return InProcessPack()


@pytest.fixture
def clean_stack_config() -> Iterator[None]:
    """The SDK copies PULUMI_CONFIG into a process-global dict on every Analyze: undo it."""
    from pulumi.runtime import config as runtime_config

    before = dict(runtime_config.CONFIG.get())
    yield
    current = runtime_config.CONFIG.get()
    current.clear()
    current.update(before)
