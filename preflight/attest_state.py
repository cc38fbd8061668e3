"""The residency attestation of what is deployed, and its comparison with what was planned.

    pulumi stack export --stack prod --file state.json
    preflight attest-state state.json --out deployed.intoto.json [--sign-key KEY]
    preflight attest-diff planned.dsse.json deployed.dsse.json --public-key KEY   # 0 same, 1 not

`attest-state` reads a `pulumi stack export` file (`{"version": 3, "deployment": {"resources":
[...]}}`, each resource with `urn`, `type`, `custom`, `id`, `inputs`, `outputs`, `parent`,
`provider` ("<provider urn>::<provider id>"), `protect`) and builds the same predicate as a plan's
(preflight/attest.py) from it, with `source` `deployed-state` and no verdict (the pack judged
the plan; this says what came of it). The region a resource landed in, in this order:

1. the region segment of its OCID: OCI names a resource's region in its OCID
   (`ocid1.<type>.<realm>.<region>.<unique id>`, OCI's "Resource Identifiers"), so the cloud's
   own answer wins. The OCID is the resource's `id`, or for a bucket, whose id is
   `n/{namespaceName}/b/{bucketName}` (pulumi_oci objectstorage/bucket.py, the import id), its
   `bucketId` output ("The OCID of the bucket", the same file);
2. its own `region` field (pulumi-aws 7 resources carry one);
3. its provider's `region` input (for a default provider, the stack config it was made from).

The state format is pulumi's apitype (sdk/go/common/apitype/core.go, DeploymentV3 and
ResourceV3). A resource with `delete: true` ("the resource should be deleted during the next
update": the old copy of a replacement) or `pendingReplacement: true` ("deleted but not yet
recreated") is not deployed and is left out. A state with `pending_operations` ("operations
that were known by the engine to be currently executing") is one an update left half done; it
cannot be attested (bad input) until `pulumi refresh` settles it.

Secret values in the state (the wire secret object, with `ciphertext`, or `plaintext` when the
export was made with `--show-secrets`) are never read: they become the placeholder `[secret]`.

`attest-diff` compares two verified statements (signatures checked as `verify` does): every
data-bearing resource by URN (region, realm, jurisdiction, kind, name, key, key region,
protect), the replication edges and the legacy replicas. Keys are compared by the URN of the key
resource they name, since a plan's key ids are preflight's mock OCIDs and a state's are real.
A value the plan could not know (`[unknown]`) is not compared. Empty: exit 0; anything else
(a resource that landed elsewhere, one missing or unplanned, another commit): exit 1.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from preflight import __version__, attest
from preflight.catalogue import ocid_region
from preflight.engine.values import _SECRET_SIG, _SIG, UNKNOWN_PLACEHOLDER
from preflight.errors import EXIT_BLOCKED, EXIT_OK, BadInput
from preflight.inventory import build_inventory
from preflight.masking import mask_outputs, mask_records
from preflight.model import ResourceRecord
from preflight.project import SECRET_PLACEHOLDER, read_json

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
# Outputs that hold a resource's OCID when its id is not one (a bucket's id is n/<ns>/b/<name>).
_OCID_OUTPUTS = ("bucketId",)


def _unsecret(value: Any) -> Any:
    if isinstance(value, Mapping):
        if value.get(_SIG) == _SECRET_SIG:
            return SECRET_PLACEHOLDER
        return {str(k): _unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecret(v) for v in value]
    return value


def _ocid_landing(resource: Mapping[str, Any]) -> str | None:
    outputs = resource.get("outputs") or {}
    for value in (resource.get("id"), *(outputs.get(k) for k in _OCID_OUTPUTS)):
        region = ocid_region(value)
        if region:
            return region
    return None


def records_from_export(data: Any, where: str) -> tuple[str, str, list[ResourceRecord], dict[str, Any]]:
    """(project, stack, resource records as deployed, stack outputs) of a `pulumi stack export`."""
    if not isinstance(data, dict) or not isinstance(data.get("deployment"), dict):
        raise BadInput(f"{where}: not a pulumi stack export (no deployment)")
    resources = data["deployment"].get("resources")
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        raise BadInput(f"{where}: deployment.resources is not a list")
    if data["deployment"].get("pending_operations"):
        raise BadInput(
            f"{where}: the state has pending operations (an interrupted update): settle it with "
            "pulumi refresh before attesting it"
        )
    raw: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, r in enumerate(resources):
        if not isinstance(r, dict) or not isinstance(r.get("urn"), str) or not isinstance(r.get("type"), str):
            raise BadInput(f"{where}: deployment.resources[{i}]: needs a urn and a type")
        if not r["urn"].startswith("urn:pulumi:") or r["urn"].count("::") < 3:
            raise BadInput(f"{where}: deployment.resources[{i}]: {r['urn'][:120]!r} is not a Pulumi URN")
        for key in ("inputs", "outputs"):
            if r.get(key) is not None and not isinstance(r.get(key), dict):
                raise BadInput(f"{where}: deployment.resources[{i}].{key}: not an object")
        if r.get("delete") is True or r.get("pendingReplacement") is True:
            continue  # the old copy of a replaced resource, or one deleted and not yet recreated
        if r["urn"] in seen:
            raise BadInput(f"{where}: deployment.resources[{i}]: {r['urn'][:120]} is in the state twice")
        seen.add(r["urn"])
        raw.append(r)
    stack_res = next((r for r in raw if r["type"] == STACK_TYPE), None)
    if stack_res is None:
        raise BadInput(f"{where}: the export holds no {STACK_TYPE} resource")
    head = stack_res["urn"][len("urn:pulumi:") :].split("::")
    stack, project = head[0], head[1]

    providers: dict[str, str | None] = {}
    for r in raw:
        if r["type"].startswith(PROVIDER_PREFIX):
            prov_region = (r.get("inputs") or {}).get("region")
            providers[f"{r['urn']}::{r.get('id') or ''}"] = (
                prov_region if isinstance(prov_region, str) else None
            )
    records: list[ResourceRecord] = []
    for r in raw:
        inputs = _unsecret(r.get("inputs") or {})
        outputs = _unsecret(r.get("outputs") or {})
        is_provider = r["type"].startswith(PROVIDER_PREFIX)
        provider = r.get("provider") if isinstance(r.get("provider"), str) else None
        region: str | None = None
        source = "none"
        if is_provider:
            region = inputs.get("region") if isinstance(inputs.get("region"), str) else None
            source = "provider" if region else "none"
        elif r.get("custom"):
            own = outputs.get("region", inputs.get("region"))
            landed = _ocid_landing(r)
            if landed:
                region, source = landed, "field"
            elif isinstance(own, str) and own:
                region, source = own, "field"
            elif provider is not None and providers.get(provider):
                region, source = providers[provider], "provider"
        records.append(
            ResourceRecord(
                urn=r["urn"],
                type=r["type"],
                name=r["urn"].rsplit("::", 1)[-1],
                custom=bool(r.get("custom")),
                parent=r.get("parent") if isinstance(r.get("parent"), str) else None,
                provider=provider,
                region=region,
                region_source=source,  # type: ignore[arg-type]
                # What the cloud reported wins over what the program asked for.
                inputs={**inputs, **outputs} if not is_provider else inputs,
                outputs=outputs,
                protect=bool(r.get("protect")),
                location=None,
                id=r.get("id") if isinstance(r.get("id"), str) else None,
            )
        )
    return project, stack, records, dict(_unsecret(stack_res.get("outputs") or {}))


def deployed_statement(export: Path, project_dir: Path, stack: str | None = None) -> bytes:
    """The in-toto statement of the deployed state in `export` (a `pulumi stack export` file)."""
    where = str(export)
    data = read_json(export, where)  # bounded: size, depth; one-line BadInput
    project, state_stack, records, outputs = records_from_export(data, where)
    if stack is not None and stack != state_stack:
        raise BadInput(f"{where}: the export is of stack {state_stack!r}, not {stack!r}")
    # Through the same masking room as a plan's attestation (preflight/masking.py): secret-named
    # keys and credential-looking values are `[secret]` on both sides of attest-diff alike.
    records = mask_records(records)
    outputs = mask_outputs(outputs)
    digest = hashlib.sha256(Path(export).read_bytes()).hexdigest()
    predicate = attest.build_predicate(
        project=project,
        stack=state_stack,
        project_dir=project_dir,
        inventory=build_inventory(records, outputs),
        verdict=None,
        pack=None,
        checkov="not run (a deployed state)",
        tool_version=__version__,
        source={"kind": "deployed-state", "state_sha256": digest, "resources": len(records)},
    )
    subjects: list[dict[str, Any]] = [
        {"name": attest.STATE_EXPORT + Path(export).name, "digest": {"sha256": digest}}
    ]
    commit = str(predicate["git"]["commit"])
    if commit != "unknown":
        subjects.append({"name": attest.COMMIT_SUBJECT, "digest": {"gitCommit": commit}})
    stack_file = project_dir / f"Pulumi.{state_stack}.yaml"
    if stack_file.is_file():
        subjects.append(
            {
                "name": attest.STACK_FILE + stack_file.name,
                "digest": {"sha256": attest.sha256_file(stack_file)},
            }
        )
    return attest.statement(predicate, subjects)


# --------------------------------------------------------------------------- the comparison

_DATA_FIELDS = ("type", "kind", "name", "region", "realm", "jurisdiction", "key", "key_region", "protect")
_EDGE_FIELDS = ("kind", "source_urn", "source", "source_region", "destination", "destination_region")
_LEGACY_FIELDS = (
    "site",
    "bucket",
    "country",
    "region",
    "endpoint",
    "mode",
    "sunset",
    "role",
    "waiver_expires",
)


def _keys_by_id(predicate: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(d["key"]): f"key {d['urn']}"
        for d in predicate["data_resources"]
        if d["kind"] == "key" and d["key"]
    }


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


def compare(planned: Mapping[str, Any], deployed: Mapping[str, Any]) -> list[str]:
    """Each way the deployed predicate differs from the planned one (empty: none)."""
    lines: list[str] = []
    for what in ("project", "stack"):
        if planned[what] != deployed[what]:
            lines.append(f"{what}: planned {planned[what]}, deployed {deployed[what]}")
    if planned["git"]["commit"] != deployed["git"]["commit"]:
        lines.append(
            f"commit: planned at {planned['git']['commit']}, deployed from {deployed['git']['commit']}"
        )
    plan_keys, state_keys = _keys_by_id(planned), _keys_by_id(deployed)
    plan_data = {d["urn"]: d for d in planned["data_resources"]}
    state_data = {d["urn"]: d for d in deployed["data_resources"]}
    for urn in sorted(plan_data.keys() - state_data.keys()):
        lines.append(f"MISSING: {urn} was planned in {_shown(plan_data[urn]['region'])} and is not deployed")
    for urn in sorted(state_data.keys() - plan_data.keys()):
        lines.append(
            f"UNPLANNED: {urn} is deployed in {_shown(state_data[urn]['region'])} and was not planned"
        )
    for urn in sorted(plan_data.keys() & state_data.keys()):
        p, d = plan_data[urn], state_data[urn]
        for f in _DATA_FIELDS:
            want, got = p[f], d[f]
            if f == "key":
                want, got = plan_keys.get(str(want), want), state_keys.get(str(got), got)
                if p["kind"] == "key":
                    continue  # a key's own id: mock in the plan, real in the state
            if want in (UNKNOWN_PLACEHOLDER, got):
                continue
            verb = "LANDED ELSEWHERE" if f == "region" else "DIFFERS"
            lines.append(f"{verb}: {urn}: {f} planned {_shown(want)}, deployed {_shown(got)}")
    lines += _set_diff(
        "replication edge",
        [tuple(e[f] for f in _EDGE_FIELDS) for e in planned["replication_edges"]],
        [tuple(e[f] for f in _EDGE_FIELDS) for e in deployed["replication_edges"]],
    )
    plan_legacy = {r["urn"]: r for r in planned["legacy_replicas"]}
    state_legacy = {r["urn"]: r for r in deployed["legacy_replicas"]}
    for urn in sorted(plan_legacy.keys() ^ state_legacy.keys()):
        side = "planned, not deployed" if urn in plan_legacy else "deployed, not planned"
        lines.append(f"LEGACY REPLICA {side}: {urn}")
    for urn in sorted(plan_legacy.keys() & state_legacy.keys()):
        for f in _LEGACY_FIELDS:
            want, got = plan_legacy[urn][f], state_legacy[urn][f]
            if want not in (got, UNKNOWN_PLACEHOLDER):
                lines.append(
                    f"DIFFERS: legacy replica {urn}: {f} planned {_shown(want)}, deployed {_shown(got)}"
                )
    return lines


def _set_diff(
    what: str, planned: Iterable[tuple[Any, ...]], deployed: Iterable[tuple[Any, ...]]
) -> list[str]:
    p, d = set(planned), set(deployed)
    out = [
        f"{what.upper()} planned, not deployed: {' '.join(map(_shown, e))}" for e in sorted(p - d, key=str)
    ]
    out += [
        f"{what.upper()} deployed, not planned: {' '.join(map(_shown, e))}" for e in sorted(d - p, key=str)
    ]
    return out


# --------------------------------------------------------------------------- the commands


def run_attest_state(args: argparse.Namespace) -> int:
    from preflight.attest_sign import envelope_text, load_signer, sign
    from preflight.outputs import atomic_target

    signer = load_signer(args.sign_key) if args.sign_key else None
    export = Path(args.export)
    statement = deployed_statement(export, Path(args.project_dir), args.stack)
    data = statement if signer is None else envelope_text(sign(statement, signer)).encode("utf-8")
    with atomic_target(args.out, "--out") as tmp:
        tmp.write_bytes(data)
    print(f"preflight attest-state: {'signed' if signer else 'unsigned'} statement of {export} -> {args.out}")
    return EXIT_OK


def run_attest_diff(args: argparse.Namespace) -> int:
    from preflight.attest_sign import load_public_keys, read_statement

    keys = load_public_keys(args.public_key, args.trusted_keys)
    docs = []
    for path in (args.planned, args.deployed):
        result, doc = read_statement(Path(path), keys, allow_unsigned=args.allow_unsigned)
        for line in result.lines:
            print(line)
        for line in result.errors:
            print(f"preflight: error: {line}", file=sys.stderr)
        if doc is None:
            return result.code
        docs.append(doc["predicate"])
    planned, deployed = docs
    if planned["source"]["kind"] != "plan" or deployed["source"]["kind"] != "deployed-state":
        print(
            f"preflight: error: attest-diff compares a plan with a deployed state, not a "
            f"{planned['source']['kind']} with a {deployed['source']['kind']}",
            file=sys.stderr,
        )
        return EXIT_BLOCKED
    lines = compare(planned, deployed)
    for line in lines:
        print(line)
    n = len(planned["data_resources"])
    if lines:
        print(f"preflight attest-diff: {len(lines)} differences", file=sys.stderr)
        return EXIT_BLOCKED
    print(f"preflight attest-diff: deployed == planned ({n} data-bearing resources)")
    return EXIT_OK
