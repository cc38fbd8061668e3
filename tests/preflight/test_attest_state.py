"""The attestation of what is deployed (issue 14, item 4): built from a `pulumi stack export`,
compared with the plan's. The exports here are made from synthesized stacks by `to_export`, as
the engine would write them after an up: real-looking OCIDs that are not preflight's mock ids
(region segment in OCI's short key form), a bucket's id `n/<namespace>/b/<name>` with its OCID
in `bucketId`, references to other resources rewritten to those ids, the stack's outputs on the
Stack resource. One export is doctored to put a bucket in another region: exit 1."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from preflight import attest
from preflight.attest_sign import envelope_text, load_signer, sign, statement_problems
from preflight.attest_state import compare, deployed_statement, records_from_export
from preflight.catalogue import region_facts
from preflight.errors import BadInput
from preflight.inventory import build_inventory
from preflight.model import ResourceRecord
from preflight.synth import SynthResult, synthesize
from tests.preflight.attest_helpers import preflight_cli, write_keypair

ROOT = Path(__file__).resolve().parents[2]
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:AAAA"}


def _real_id(record: ResourceRecord) -> str | None:
    """The id a deploy would have given `record`: another unique part, the region as its key."""
    if not record.id:
        return None
    if not record.id.startswith("ocid1."):
        return record.id.replace(record.id[-16:], hashlib.sha256(record.urn.encode()).hexdigest()[:16])
    kind, realm, region = record.id.split(".")[1:4]
    facts = region_facts(region)
    segment = facts["key"].lower() if facts else region
    unique = hashlib.sha256(b"deployed:" + record.urn.encode()).hexdigest()[:60]
    return f"ocid1.{kind}.{realm}.{segment}.{unique}"


def _replace(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, dict):
        return {k: _replace(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, ids) for v in value]
    return value


def to_export(synth: SynthResult) -> dict[str, Any]:
    """A `pulumi stack export` (version 3) of what deploying `synth` would leave in the state."""
    ids = {r.id: _real_id(r) for r in synth.resources if r.id and not r.type.startswith("pulumi:providers:")}
    resources = []
    for r in synth.resources:
        rid = ids.get(r.id or "", r.id)
        outputs = _replace(r.outputs, ids)
        if r.type == "oci:ObjectStorage/bucket:Bucket":
            outputs["bucketId"] = rid  # the OCID; the id is the import form
            rid = f"n/{r.inputs.get('namespace')}/b/{r.inputs.get('name')}"
            outputs["id"] = rid
        if r.type == "pulumi:pulumi:Stack":
            outputs = {**synth.outputs, "apiKey": SECRET}
        resource: dict[str, Any] = {"urn": r.urn, "custom": r.custom, "type": r.type}
        if r.custom:
            resource["id"] = rid
        resource |= {"inputs": _replace(r.inputs, ids), "outputs": outputs}
        if r.parent:
            resource["parent"] = r.parent
        if r.provider:
            resource["provider"] = r.provider
        if r.protect:
            resource["protect"] = True
        resources.append(resource)
    return {"version": 3, "deployment": {"manifest": {"version": "v3.272.0"}, "resources": resources}}


@pytest.fixture(scope="module")
def prod() -> SynthResult:
    return synthesize(ROOT, "prod")


@pytest.fixture(scope="module")
def planned(prod: SynthResult) -> dict[str, Any]:
    return attest.build_predicate(
        project=prod.project,
        stack=prod.stack,
        project_dir=ROOT,
        inventory=build_inventory(prod.resources, prod.outputs),
        verdict=attest.verdict_of([]),
        pack=None,
        checkov="skipped",
        tool_version="0.1.0",
    )


def _deployed(export: dict[str, Any], tmp_path: Path, name: str = "state.json") -> dict[str, Any]:
    path = tmp_path / name
    path.write_text(json.dumps(export))
    doc = json.loads(deployed_statement(path, ROOT))
    assert statement_problems(doc) == [], statement_problems(doc)
    return doc


def test_deployed_as_planned_is_an_empty_diff(
    prod: SynthResult, planned: dict[str, Any], tmp_path: Path
) -> None:
    export = to_export(prod)
    doc = _deployed(export, tmp_path)
    deployed = doc["predicate"]
    jsonschema.validate(deployed, json.loads(attest.PREDICATE_SCHEMA.read_text()))
    assert deployed["source"]["kind"] == "deployed-state" and deployed["verdict"] is None
    assert deployed["source"]["resources"] == len(prod.resources)
    names = {s["name"]: s["digest"] for s in doc["subject"]}
    assert names["state-export:state.json"] == {"sha256": attest.sha256_file(tmp_path / "state.json")}
    assert "stack-file:Pulumi.prod.yaml" in names
    assert len(deployed["data_resources"]) == len(planned["data_resources"]) > 40
    assert deployed["replication_edges"] and deployed["legacy_replicas"]
    # The state's real ids, not the plan's mock ones: keys are told apart by the key they name.
    real_keys = {d["key"] for d in deployed["data_resources"] if d["kind"] == "bucket"}
    mock_keys = {d["key"] for d in planned["data_resources"] if d["kind"] == "bucket"}
    assert real_keys and not real_keys & mock_keys
    assert all(".iad." in k or ".phx." in k or ".ord." in k or ".sjc." in k for k in real_keys), real_keys
    assert compare(planned, deployed) == []


def test_a_bucket_that_landed_elsewhere_is_caught(
    prod: SynthResult, planned: dict[str, Any], tmp_path: Path
) -> None:
    export = to_export(prod)
    bucket = next(
        r for r in export["deployment"]["resources"] if r["type"] == "oci:ObjectStorage/bucket:Bucket"
    )
    planned_region = next(d["region"] for d in planned["data_resources"] if d["urn"] == bucket["urn"])
    ocid = bucket["outputs"]["bucketId"].split(".")
    bucket["outputs"]["bucketId"] = ".".join([*ocid[:3], "fra", *ocid[4:]])
    lines = compare(planned, _deployed(export, tmp_path)["predicate"])
    assert (
        f"LANDED ELSEWHERE: {bucket['urn']}: region planned {planned_region}, deployed eu-frankfurt-1"
        in lines
    )
    assert any(line.startswith(f"DIFFERS: {bucket['urn']}: jurisdiction planned US") for line in lines), lines


def test_the_ocid_wins_over_the_provider_and_the_provider_is_used_without_one(
    prod: SynthResult, planned: dict[str, Any], tmp_path: Path
) -> None:
    export = to_export(prod)
    # A provider whose config says another region: an OCI resource's OCID still says where it is.
    for r in export["deployment"]["resources"]:
        if r["type"] == "pulumi:providers:oci":
            r["inputs"]["region"] = "eu-frankfurt-1"
    deployed = _deployed(export, tmp_path)["predicate"]
    oci_lines = [line for line in compare(planned, deployed) if "oci:" in line.split(": ")[1]]
    assert oci_lines == []
    # A legacy S3 bucket has no OCID and no own region field here: its provider's region counts.
    export = to_export(prod)
    legacy = next(r for r in export["deployment"]["resources"] if r["type"].startswith("aws:s3/bucket"))
    legacy["inputs"].pop("region", None)
    legacy["outputs"].pop("region", None)
    provider = next(
        r for r in export["deployment"]["resources"] if legacy["provider"].startswith(r["urn"] + "::")
    )
    was = provider["inputs"]["region"]
    provider["inputs"]["region"] = "eu-west-1"
    lines = compare(planned, _deployed(export, tmp_path)["predicate"])
    assert f"LANDED ELSEWHERE: {legacy['urn']}: region planned {was}, deployed eu-west-1" in lines, lines


def test_missing_unplanned_and_edges(prod: SynthResult, planned: dict[str, Any], tmp_path: Path) -> None:
    export = to_export(prod)
    resources = export["deployment"]["resources"]
    gone = next(r for r in resources if r["type"] == "oci:Logging/logGroup:LogGroup")
    resources.remove(gone)
    extra = copy.deepcopy(next(r for r in resources if r["type"] == "oci:ObjectStorage/bucket:Bucket"))
    extra["urn"] += "-extra"
    resources.append(extra)
    edge = next(r for r in resources if r["type"] == "oci:Kms/vaultVerification:VaultVerification")
    edge["outputs"]["replicaRegion"] = "eu-frankfurt-1"  # what the cloud reported wins
    lines = compare(planned, _deployed(export, tmp_path)["predicate"])
    assert any(line.startswith(f"MISSING: {gone['urn']}") for line in lines)
    assert any(line.startswith(f"UNPLANNED: {extra['urn']}") for line in lines)
    assert any(
        line.startswith("REPLICATION EDGE deployed, not planned") and "eu-frankfurt-1" in line
        for line in lines
    )


def test_secrets_in_the_state_are_never_read(prod: SynthResult, tmp_path: Path) -> None:
    export = to_export(prod)
    bucket = next(
        r for r in export["deployment"]["resources"] if r["type"] == "oci:ObjectStorage/bucket:Bucket"
    )
    bucket["outputs"]["name"] = {**SECRET, "plaintext": '"the-plaintext-name"'}
    other = [r for r in export["deployment"]["resources"] if r["type"] == "oci:ObjectStorage/bucket:Bucket"][
        1
    ]
    other["outputs"]["name"] = "AKIAIOSFODNN7EXAMPLE"  # credential-looking: masked as in every output
    text = deployed_statement(_write(tmp_path, export), ROOT).decode()
    assert "the-plaintext-name" not in text and "v1:AAAA" not in text and "AKIAIOSFODNN7EXAMPLE" not in text
    _, _, _, outputs = records_from_export(export, "state.json")
    assert outputs["apiKey"] == "[secret]"


def test_an_old_copy_to_delete_is_not_deployed_and_pending_operations_are_refused(
    prod: SynthResult, planned: dict[str, Any], tmp_path: Path
) -> None:
    export = to_export(prod)
    resources = export["deployment"]["resources"]
    bucket = next(r for r in resources if r["type"] == "oci:ObjectStorage/bucket:Bucket")
    old = copy.deepcopy(bucket)
    ocid = old["outputs"]["bucketId"].split(".")
    old["outputs"]["bucketId"] = ".".join([*ocid[:3], "fra", *ocid[4:]])
    resources.append({**old, "delete": True})
    assert compare(planned, _deployed(export, tmp_path)["predicate"]) == []
    resources.remove(bucket)
    resources.append({**bucket, "pendingReplacement": True})
    lines = compare(planned, _deployed(export, tmp_path)["predicate"])
    assert lines == [line for line in lines if line.startswith(f"MISSING: {bucket['urn']}")] and lines
    resources.pop()
    resources.append(bucket)
    resources.append(copy.deepcopy(bucket))
    with pytest.raises(BadInput, match="twice"):
        deployed_statement(_write(tmp_path, export), ROOT)
    resources.pop()
    export["deployment"]["pending_operations"] = [{"resource": bucket, "type": "creating"}]
    with pytest.raises(BadInput, match="pending operations"):
        deployed_statement(_write(tmp_path, export), ROOT)


def _write(tmp_path: Path, export: Any, name: str = "state.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(export))
    return path


@pytest.mark.parametrize(
    "export",
    [
        [],
        {"version": 3},
        {"deployment": {"resources": {}}},
        {"deployment": {"resources": [{"urn": "x", "type": "t"}]}},
        {"deployment": {"resources": [{"urn": "urn:pulumi:s::p::t::n", "type": "t", "inputs": []}]}},
        {"deployment": {"resources": []}},
    ],
)
def test_a_bad_export_is_bad_input(tmp_path: Path, export: Any) -> None:
    with pytest.raises(BadInput, match=r"state\.json"):
        deployed_statement(_write(tmp_path, export), ROOT)


_cli = preflight_cli


@pytest.mark.slow
def test_attest_state_and_attest_diff_end_to_end(
    prod: SynthResult, planned: dict[str, Any], tmp_path: Path
) -> None:
    key, pub = write_keypair(tmp_path, "k")
    subjects = [
        {
            "name": "stack-file:Pulumi.prod.yaml",
            "digest": {"sha256": attest.sha256_file(ROOT / "Pulumi.prod.yaml")},
        }
    ]
    plan = tmp_path / "planned.dsse.json"
    plan.write_text(envelope_text(sign(attest.statement(planned, subjects), load_signer(key))))

    export = to_export(prod)
    state = _write(tmp_path, export)
    deployed = tmp_path / "deployed.dsse.json"
    made = _cli(
        "attest-state", state, "--project-dir", ROOT, "--stack", "prod", "--out", deployed, "--sign-key", key
    )
    assert made.returncode == 0, made.stderr
    assert _cli("verify", deployed, "--public-key", pub).returncode == 0
    same = _cli("attest-diff", plan, deployed, "--public-key", pub)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "deployed == planned" in same.stdout

    bucket = next(
        r for r in export["deployment"]["resources"] if r["type"] == "oci:ObjectStorage/bucket:Bucket"
    )
    ocid = bucket["outputs"]["bucketId"].split(".")
    bucket["outputs"]["bucketId"] = ".".join([*ocid[:3], "fra", *ocid[4:]])
    doctored = tmp_path / "doctored.dsse.json"
    made = _cli("attest-state", _write(tmp_path, export, "doctored.json"), "--project-dir", ROOT,
                "--out", doctored, "--sign-key", key)  # fmt: skip
    assert made.returncode == 0, made.stderr
    moved = _cli("attest-diff", plan, doctored, "--public-key", pub)
    assert moved.returncode == 1 and f"LANDED ELSEWHERE: {bucket['urn']}" in moved.stdout, moved.stdout

    # A deployed attestation edited after signing does not verify, so it is not compared.
    envelope = json.loads(deployed.read_text())
    doc = json.loads(base64.b64decode(envelope["payload"]))
    doc["predicate"]["data_resources"][0]["region"] = "us-phoenix-1"
    envelope["payload"] = base64.b64encode(attest.canonical(doc)).decode()
    deployed.write_text(json.dumps(envelope))
    assert _cli("attest-diff", plan, deployed, "--public-key", pub).returncode == 1
    # Unreadable export, wrong stack, unsigned without the flag.
    assert _cli("attest-state", tmp_path / "none.json", "--out", tmp_path / "x.json").returncode == 2
    wrong = _cli("attest-state", state, "--stack", "staging", "--out", tmp_path / "x.json")
    assert wrong.returncode == 2 and "not 'staging'" in wrong.stderr
    unsigned = tmp_path / "unsigned.json"
    assert _cli("attest-state", state, "--project-dir", ROOT, "--out", unsigned).returncode == 0
    plain_plan = tmp_path / "planned.json"
    plain_plan.write_bytes(attest.statement(planned, subjects))
    assert _cli("attest-diff", plain_plan, unsigned).returncode == 1
    assert _cli("attest-diff", plain_plan, unsigned, "--allow-unsigned").returncode == 0
