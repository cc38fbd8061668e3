"""Nothing that could not be checked may look like a pass (in process; over gRPC: test_pack_grpc)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pack_config import ConfigError, load_config, parse_config
from pack_policy import (
    ADVISORY,
    MANDATORY,
    Finding,
    Meta,
    PolicyEvaluationError,
    resource_policy,
    stack_policy,
)
from pulumi_policy import EnforcementLevel, Severity
from pulumi_policy.policy import _PolicyAnalyzerServicer
from residency import oci_region
from resource_props import Resource

from tests.policies.cases import BUCKET_IAD, ESTATE, OCI_SIN, US_BUCKET, Prov
from tests.policies.harness import InProcessPack, analyze_request, diags, full_config, stack_request


def _boom(res: Resource, cfg: Any) -> Iterator[Finding]:
    raise KeyError("a prop shape nobody expected")
    yield Finding("unreachable")


def _servicer(*policies: Any) -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer("t", "0.0.1", list(policies), EnforcementLevel.MANDATORY)


def _meta(enforcement: EnforcementLevel, types: tuple[str, ...] = ("oci:",)) -> Meta:
    return Meta("test-boom", "USDR-TEST-01", "t", "d", enforcement, Severity.HIGH, "r", types=types)


def test_a_raising_mandatory_policy_reports_a_mandatory_violation() -> None:
    svc = _servicer(resource_policy(_meta(MANDATORY), _boom))
    found = diags(svc.Analyze(analyze_request(BUCKET_IAD), None))
    assert [(d.enforcement, d.policy) for d in found] == [("mandatory", "test-boom")]
    assert "could not evaluate, failing closed: policy error (KeyError" in found[0].message


def test_a_raising_advisory_policy_raises() -> None:
    svc = _servicer(resource_policy(_meta(ADVISORY), _boom))
    with pytest.raises(PolicyEvaluationError, match="test-boom: policy error"):
        svc.Analyze(analyze_request(BUCKET_IAD), None)


def test_a_raising_stack_policy_reports_a_mandatory_violation() -> None:
    def boom(resources: Any, cfg: Any) -> Iterator[tuple[str, str]]:
        raise ValueError("no")
        yield "", ""

    svc = _servicer(stack_policy(_meta(MANDATORY, ()), boom))
    found = diags(svc.AnalyzeStack(stack_request(ESTATE), None))
    assert [d.enforcement for d in found] == ["mandatory"]
    assert "policy error (ValueError: no)" in found[0].message


def test_unknown_region_is_mandatory_not_the_sdks_advisory_cant_run(pack: InProcessPack) -> None:
    pack.configure({})
    unknown = BUCKET_IAD.on(
        Prov("pulumi:providers:oci", "p", {"region": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    )
    found = [d for d in pack.analyze(unknown) if d.policy == "residency-oci-region"]
    assert [d.enforcement for d in found] == ["mandatory"]
    assert "can't run" not in found[0].message


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"allowedRegion": []}, "config.allowedRegion: unknown key"),
        ({"adminPorts": [22.5]}, "adminPorts[0]: must be a whole number"),
        (
            {"waivers": [{"target": "x", "owner": "o", "reason": "r", "expires": "soon"}]},
            "'soon' is not a date",
        ),
        (
            {
                "legacySites": [
                    {
                        "name": "s",
                        "endpoint": "https://e",
                        "country": "SG",
                        "mode": "replica",
                        "sunset": "2027-01-01",
                    }
                ]
            },
            "needs the replication writer",
        ),
        ({"catalogue": [{"identifier": "x"}]}, "regions[0].key: required text"),
        ({"optInRegions": ["us-nowhere-1"]}, "not in the region catalogue"),
        ({"homeRegion": "mars-1"}, "homeRegion: 'mars-1' is not in the region catalogue"),
    ],
)
def test_config_errors_are_one_line(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(config)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_every_mandatory_residency_policy_fails_closed_on_bad_config(pack: InProcessPack) -> None:
    pack.configure(
        {
            name: {"realm": 7}
            for name in pack.names
            if not name.startswith(("security-required", "residency-waive", "residency-unplaced"))
        }
    )
    mandatory = {
        p.name for p in pack.policies if p.name.startswith("residency-") and p.enforcement_level is MANDATORY
    }
    found = {d.policy: d for d in pack.analyze(BUCKET_IAD) if d.policy in mandatory}
    # Each residency policy that applies to a bucket says it could not evaluate, as mandatory.
    for name in (
        "residency-oci-region",
        "residency-cross-region",
        "residency-referenced-ocids",
        "residency-location-values",
    ):
        assert (
            found[name].enforcement == "mandatory"
            and "realm: must be a non-empty string" in found[name].message
        )


def test_no_catalogue_and_no_allow_list_denies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import residency_catalogue

    monkeypatch.setattr(residency_catalogue, "CATALOGUE_FILE", tmp_path / "regions.yaml")
    cfg = load_config({})
    d = cfg.decide("us-ashburn-1")
    assert not d.allowed and "not available" in d.reason
    # A catalogue in the pack config is parsed by the pack's own loader, file or no file.
    row = {"identifier": "us-x-1", "key": "UXA", "realm": "oc1", "jurisdiction": "US", "status": "approved"}
    rows = [row]
    assert load_config({"catalogue": rows}).decide("UXA").allowed
    ok = load_config(
        {"allowedRegions": [{"identifier": "us-ashburn-1", "key": "IAD", "realm": "oc1"}], "realm": "oc1"}
    )
    assert ok.decide("IAD").allowed and not ok.decide("us-phoenix-1").allowed
    # A catalogue file that is there but broken is an error (fail closed), not a missing one.
    (tmp_path / "regions.yaml").write_text("schema: 1\nschema: 1\nregions: []\n")
    with pytest.raises(ConfigError, match=r"regions\.yaml:2:1: YAML error: .*duplicate key 'schema'"):
        load_config({"realm": "oc1"})


def test_the_default_provider_is_judged_by_the_stack_config_it_was_registered_with(
    pack: InProcessPack, monkeypatch: pytest.MonkeyPatch, clean_stack_config: None
) -> None:
    """The engine registers its default provider with the package's stack config as inputs
    (pkg/resource/deploy/default_providers.go): `oci:region` arrives as the provider's region."""
    pack.configure({})
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"oci:region": "ap-singapore-1"}))
    default = BUCKET_IAD.on(Prov("pulumi:providers:oci", "default_5_5_0", {"region": "ap-singapore-1"}))
    found = [d for d in pack.analyze(default) if d.policy == "residency-oci-region"]
    assert found and "ap-singapore-1 is forbidden" in found[0].message


@pytest.mark.parametrize("name", ["default", "default_5_5_0", "mine"])
def test_a_provider_without_a_region_is_undetermined_whatever_its_name(
    pack: InProcessPack, monkeypatch: pytest.MonkeyPatch, clean_stack_config: None, name: str
) -> None:
    """`oci.Provider("default")` with no region takes it from the runner's ~/.oci/config, not
    from `oci:region` (only the engine's own default provider is built from stack config, and
    then the region is in its inputs). Stack config says Ashburn here: it must not matter."""
    pack.configure({})
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"oci:region": "us-ashburn-1", "aws:region": "us-east-1"}))
    found = [
        d for d in pack.analyze(BUCKET_IAD.on(Prov("pulumi:providers:oci", name, {})))
        if d.policy == "residency-oci-region"
    ]  # fmt: skip
    assert found and found[0].enforcement == "mandatory" and "runner's OCI config" in found[0].message
    aws = [
        d for d in pack.analyze(US_BUCKET.on(Prov("pulumi:providers:aws", name, {})))
        if d.policy == "residency-aws-location"
    ]  # fmt: skip
    assert aws and aws[0].enforcement == "mandatory", aws


def test_waiver_expiry_turns_advisory_back_into_mandatory(
    pack: InProcessPack, prod_properties: dict[str, Any]
) -> None:
    res = BUCKET_IAD.on(OCI_SIN)
    waiver = {"target": res.urn, "owner": "o", "reason": "migration", "expires": "2027-01-31"}
    pack.configure(full_config({**prod_properties, "waivers": [waiver]}, pack.names))
    found = {(d.policy, d.enforcement) for d in pack.analyze(res) if d.policy.startswith("residency-")}
    assert found == {("residency-waived", "advisory")}
    pack.configure(
        full_config({**prod_properties, "waivers": [{**waiver, "expires": "2026-11-28"}]}, pack.names)
    )
    found = {(d.policy, d.enforcement) for d in pack.analyze(res) if d.policy.startswith("residency-")}
    assert found == {("residency-oci-region", "mandatory")}


def test_only_location_findings_are_waivable(pack: InProcessPack) -> None:
    """A waiver covers where data is, and a deliberate time-boxed public share of it (a PAR);
    never who may write it or how long it lives."""
    from residency import waived_findings

    waivable = {m.META.name for m in waived_findings.WAIVABLE}
    assert waivable == {
        "residency-oci-region",
        "residency-aws-location",
        "residency-cross-region",
        "residency-referenced-ocids",
        "residency-location-values",
        "security-par-public-read",
    }
    assert all(m.META.waivable for m in waived_findings.WAIVABLE)
    assert oci_region.META.waivable
