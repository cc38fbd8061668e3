"""Every policy carries its metadata; the pack's __main__ lists exactly the policy modules."""

from __future__ import annotations

import ast
import re

import pytest
from pulumi_policy import EnforcementLevel

from stacks.policy_config import PACK_DIR, load_policies

POLICIES = load_policies()
CONTROL = re.compile(r"^USDR-(RES|IAM|WVR|SEC|LEG|LIF)-\d{2}$")


def test_names_and_controls_are_unique() -> None:
    names = [p.name for p in POLICIES]
    controls = [
        p.framework.reference if p.framework.name.startswith("us-data") else p.framework.specification
        for p in POLICIES
    ]
    assert len(set(names)) == len(names)
    assert len(set(controls)) == len(controls)


@pytest.mark.parametrize("policy", POLICIES, ids=[p.name for p in POLICIES])
def test_policy_metadata(policy: object) -> None:
    p = policy
    assert re.match(r"^(residency|security|stack|legacy)-[a-z-]+$", p.name)  # type: ignore[attr-defined]
    assert p.description and p.display_name and p.remediation_steps  # type: ignore[attr-defined]
    assert p.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)  # type: ignore[attr-defined]
    assert p.severity is not None  # type: ignore[attr-defined]
    fw = p.framework  # type: ignore[attr-defined]
    if fw.name.startswith("CIS"):
        assert re.match(r"^\d+(\.\d+)+$", fw.reference) and CONTROL.match(fw.specification)
    else:
        assert CONTROL.match(fw.reference), fw.reference
    control = fw.reference if not fw.name.startswith("CIS") else fw.specification
    assert control in p.tags  # type: ignore[attr-defined]
    assert p.config_schema is not None and "waivers" in p.config_schema.properties  # type: ignore[attr-defined]


def test_main_lists_every_policy_module_once() -> None:
    tree = ast.parse((PACK_DIR / "__main__.py").read_text())
    listed = [
        f"{node.value.id}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "POLICY" and isinstance(node.value, ast.Name)
    ]
    modules = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("residency", "security", "lifecycle")
        for alias in node.names
    }
    files = {
        p.stem
        for g in ("residency", "security", "lifecycle")
        for p in (PACK_DIR / g).glob("*.py")
        if p.stem != "__init__"
    }
    assert len(listed) == len(set(listed)) == len(POLICIES)
    assert set(listed) == modules == files


def test_pack_yaml_declares_runtime_options() -> None:
    import yaml

    spec = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert spec["name"] == "us-data-residency" and spec["version"]
    # The pack's own virtualenv, inside its folder: where an installed (published) pack gets one.
    # toolchain uv: the CLI builds it with `uv sync` from the pack's own pyproject.toml and uv.lock.
    assert spec["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    assert (PACK_DIR / spec["runtime"]["options"]["virtualenv"] / "bin" / "python").exists()
    import tomllib

    project = tomllib.loads((PACK_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    deps = {d.partition("==")[0] for d in project["project"]["dependencies"]}
    assert deps == {"pulumi", "pulumi-policy", "pyyaml"}
    assert project["tool"]["uv"]["package"] is False  # a folder the CLI runs, not a distribution
    assert (PACK_DIR / "uv.lock").is_file() and not (PACK_DIR / "requirements.txt").exists()
    # ... and a publish leaves the in-repo environment out.
    ignored = (PACK_DIR / ".pulumiignore").read_text().split()
    assert ".venv/" in ignored and ".venv" in ignored


def test_every_policy_is_tested_four_ways() -> None:
    from tests.policies.cases import ALL

    kinds: dict[str, set[str]] = {}
    for case in ALL:
        kinds.setdefault(case.policy, set()).add(case.kind)
    for p in POLICIES:
        assert {"baseline", "violation", "missing", "config"} <= kinds.get(p.name, set()), p.name
    assert set(kinds) == {p.name for p in POLICIES}
