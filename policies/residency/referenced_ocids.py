"""USDR-RES-04: OCIDs a resource references live in approved regions.

Any string prop (`kmsKeyId`, `vaultId`, `sourceId`, OCIDs inside IAM conditions ...) is
scanned for OCIDs. `ocid1.<type>.<realm>.<region>.<unique>` carries its region either as
a short key (`.iad.`) or as a name (`.us-ashburn-1.`): both are resolved through the
catalogue; a key the catalogue does not know is not approved. Global OCIDs (tenancy,
compartment, group: empty region segment) are skipped. The realm segment must be the
tenancy's. Values unknown during preview are not OCIDs yet: they are outputs of resources
in the same program, each judged by residency-oci-region itself. Waivable.
"""

from __future__ import annotations

from collections.abc import Iterator

from locations import OCID
from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, dotted, leaves

META = Meta(
    name="residency-referenced-ocids",
    control="USDR-RES-04",
    title="Referenced OCIDs only from approved regions",
    description="Every OCID a resource references (kmsKeyId, vaultId, ...) carries an approved region "
    "segment (short key or region name) and the tenancy's realm.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    types=("oci:",),
    waivable=True,
    remediation="Reference keys, vaults, buckets and other regional resources created in the same approved "
    "region (pass the resource's `.id` output, e.g. `kms_key_id=keys[region].id`) instead of pasting an "
    "OCID from another region or realm.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    realm = cfg.required_realm
    seen: set[str] = set()
    for path, value in leaves(res.props):
        if not isinstance(value, str) or "ocid1." not in value.lower():
            continue
        for m in OCID.finditer(value):
            ocid, ocid_realm, segment = m.group(0), m.group(2).lower(), m.group(3)
            if ocid in seen:
                continue
            seen.add(ocid)
            where = dotted(path)
            if realm is not None and ocid_realm != realm:
                yield Finding(f"{where} references {ocid} in realm {ocid_realm}, not {realm}")
                continue
            if not segment:
                continue  # a global resource: no region to judge
            d = cfg.decide(segment, realm)
            if not d.allowed:
                yield Finding(f"{where} references {ocid}: region segment {segment!r}: {d.reason}")


POLICY = resource_policy(META, check)
