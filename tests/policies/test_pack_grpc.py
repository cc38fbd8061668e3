"""The pack as a plugin: started as the CLI starts it, driven over the Analyzer gRPC protocol.

GetAnalyzerInfo, Configure (reconciled like the CLI by stacks.policy_config), Analyze with
the resource's provider props, AnalyzeStack: the same cases as the in-process tests, plus
the proof that a policy that raises, a broken config or a missing catalogue never looks
like a pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2

from stacks.policy_config import configure_request, policy_names
from tests.policies.cases import ALL, BUCKET_IAD, ESTATE, OCI_IAD, Case
from tests.policies.harness import Diag, Res, analyze_request, diags, full_config, stack_request
from tests.policies.pack_process import PackProcess, copy_pack, start_pack
from tests.policies.run_cases import judge, run_case

pytestmark = pytest.mark.slow
TIMEOUT = 30


class GrpcPack:
    def __init__(self, proc: PackProcess) -> None:
        self.proc = proc
        self.stub = proc.stub
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=TIMEOUT)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.info.policies]

    def configure(self, config: Mapping[str, Any]) -> None:
        self.stub.Configure(configure_request(self.info, config), timeout=TIMEOUT)

    def analyze(self, res: Res) -> list[Diag]:
        return diags(self.stub.Analyze(analyze_request(res), timeout=TIMEOUT))

    def analyze_stack(self, resources: Iterable[Res]) -> list[Diag]:
        return diags(self.stub.AnalyzeStack(stack_request(resources), timeout=TIMEOUT))


@pytest.fixture(scope="module")
def grpc_pack() -> Iterator[GrpcPack]:
    with start_pack() as proc:
        yield GrpcPack(proc)


def test_analyzer_info_lists_every_policy_with_metadata(grpc_pack: GrpcPack) -> None:
    info = grpc_pack.info
    assert info.name == "us-data-residency"
    assert info.supportsConfig
    assert sorted(grpc_pack.names) == sorted(policy_names())
    for p in info.policies:
        assert p.description and p.displayName and p.remediation_steps, p.name
        assert p.framework.reference, p.name
        assert p.severity != analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED, p.name
        assert "allowedRegions" in p.configSchema.properties, p.name
        assert p.policy_type in (analyzer_pb2.POLICY_TYPE_RESOURCE, analyzer_pb2.POLICY_TYPE_STACK), p.name
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels["residency-oci-region"] == analyzer_pb2.MANDATORY
    assert levels["residency-waived"] == analyzer_pb2.ADVISORY
    assert levels["security-required-tags"] == analyzer_pb2.ADVISORY


def test_plugin_info(grpc_pack: GrpcPack) -> None:
    assert grpc_pack.stub.GetPluginInfo(empty_pb2.Empty(), timeout=TIMEOUT).version


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_case_over_grpc(case: Case, grpc_pack: GrpcPack, prod_properties: dict[str, Any]) -> None:
    found = run_case(
        case,
        grpc_pack.configure,
        grpc_pack.analyze,
        grpc_pack.analyze_stack,
        prod_properties,
        grpc_pack.names,
    )
    judge(case, found)


def test_compliant_estate_blocks_nothing(grpc_pack: GrpcPack, prod_properties: dict[str, Any]) -> None:
    grpc_pack.configure(full_config(prod_properties, grpc_pack.names))
    found = [d for r in ESTATE for d in grpc_pack.analyze(r)] + grpc_pack.analyze_stack(ESTATE)
    blocking = [d for d in found if d.enforcement == "mandatory"]
    assert not blocking, "\n".join(f"{d.policy}: {d.message}" for d in blocking)
    # The Singapore site is waived: advisory, and the waiver is named.
    waived = [d for d in found if d.policy == "residency-waived"]
    assert waived and all("waiver 'legacy-sg'" in d.message and d.enforcement == "advisory" for d in waived)


# --------------------------------------------------------------------------- fail closed


def test_invalid_config_fails_closed_for_mandatory_policies(
    grpc_pack: GrpcPack, prod_properties: dict[str, Any]
) -> None:
    config = full_config(prod_properties, grpc_pack.names)
    config["residency-oci-region"] = {**prod_properties, "allowedRegion": ["typo"]}
    grpc_pack.configure(config)
    found = [d for d in grpc_pack.analyze(BUCKET_IAD) if d.policy == "residency-oci-region"]
    assert [d.enforcement for d in found] == ["mandatory"]
    assert (
        "could not evaluate, failing closed: pack configuration invalid: config.allowedRegion: unknown key"
        in found[0].message
    )


def test_a_raising_advisory_policy_fails_the_rpc(
    grpc_pack: GrpcPack, prod_properties: dict[str, Any]
) -> None:
    """An advisory policy cannot turn its crash into a mandatory finding: the call itself fails."""
    config = full_config(prod_properties, grpc_pack.names)
    config["security-required-tags"] = {**prod_properties, "requiredTags": "data-residency"}  # not a list
    grpc_pack.configure(config)
    with pytest.raises(grpc.RpcError) as err:
        grpc_pack.analyze(BUCKET_IAD)
    assert err.value.code() == grpc.StatusCode.UNKNOWN
    assert grpc_pack.proc.process.poll() is None  # the pack survives and keeps serving
    grpc_pack.configure(full_config(prod_properties, grpc_pack.names))
    assert not [d for d in grpc_pack.analyze(BUCKET_IAD) if d.enforcement == "mandatory"]


def test_configure_without_levels_would_downgrade_everything(
    grpc_pack: GrpcPack, prod_properties: dict[str, Any]
) -> None:
    """Why preflight must use configure_request: a bare Configure entry defaults to ADVISORY."""
    bare = analyzer_pb2.ConfigureAnalyzerRequest()
    for name in grpc_pack.names:
        bare.policyConfig[name].properties.update(prod_properties)
    grpc_pack.stub.Configure(bare, timeout=TIMEOUT)
    found = [d for d in grpc_pack.analyze(BUCKET_IAD.on(None)) if d.policy == "residency-oci-region"]
    assert [d.enforcement for d in found] == ["advisory"]
    grpc_pack.configure(full_config(prod_properties, grpc_pack.names))
    found = [d for d in grpc_pack.analyze(BUCKET_IAD.on(None)) if d.policy == "residency-oci-region"]
    assert [d.enforcement for d in found] == ["mandatory"]


def test_missing_catalogue_fails_every_residency_policy_closed(tmp_path: Any) -> None:
    """The catalogue is the pack's own (usdr_common/regions.yaml): a copy of the pack without it."""
    pack_dir = copy_pack(tmp_path / "pack")
    (pack_dir / "usdr_common" / "regions.yaml").unlink()
    with start_pack(pack_dir=pack_dir) as proc:
        pack = GrpcPack(proc)
        pack.configure({})
        found = [d for d in pack.analyze(BUCKET_IAD) if d.policy.startswith("residency-")]
        oci = [d for d in found if d.policy == "residency-oci-region"]
        assert [d.enforcement for d in oci] == ["mandatory"]
        assert "region catalogue (usdr_common/regions.yaml) is not available" in oci[0].message
        # Reuse by configuration alone: allowedRegions with keys and realms need no catalogue.
        allowed = [{"identifier": "us-ashburn-1", "key": "IAD", "realm": "oc1"}]
        pack.configure({n: {"allowedRegions": allowed, "realm": "oc1"} for n in pack.names})
        assert not [d for d in pack.analyze(BUCKET_IAD) if d.policy == "residency-oci-region"]


def test_default_provider_takes_oci_region_from_stack_config() -> None:
    """The CLI hands the stack's config to the pack in PULUMI_CONFIG; a default provider uses oci:region."""
    default = BUCKET_IAD.on(None)
    with start_pack({"PULUMI_CONFIG": json.dumps({"oci:region": "us-ashburn-1"})}) as proc:
        pack = GrpcPack(proc)
        pack.configure({})
        assert not [d for d in pack.analyze(default) if d.policy == "residency-oci-region"]
    with start_pack({"PULUMI_CONFIG": json.dumps({"oci:region": "ap-singapore-1"})}) as proc:
        pack = GrpcPack(proc)
        pack.configure({})
        found = [d for d in pack.analyze(default) if d.policy == "residency-oci-region"]
        assert found and "ap-singapore-1" in found[0].message and "stack-config" in found[0].message
    assert OCI_IAD.props["region"] == "us-ashburn-1"
