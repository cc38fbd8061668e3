"""Cases the mutation run showed missing (docs/mutation-testing.md, issue 20), baseline minus one.

Registered in tests/policies/cases.py's ALL (one line there), so they run in process
(tests/policies/test_security.py / test_residency.py / test_lifecycle.py ::test_policy) and over
the Analyzer gRPC protocol (tests/policies/test_pack_grpc.py::test_case_over_grpc) like every
other policy's cases. Built by a function, imported lazily: cases.py imports this module, this
module uses cases.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.policies.cases import Case


def cases() -> list[Case]:
    from tests.policies import cases as c

    # USDR-SEC-07: every firewall policy is judged, also the ones after a policy that has no
    # IDS rule at all (a `break` there hid the later policy's uncovered data subnet:
    # firewall_ids.py line 142, the survivor the first round left open).
    empty_policy = replace(c.FW_POLICY_IAD, name="iad-fw-policy-empty")
    # USDR-LEG-02: a bucket policy names its bucket by the bucket's name, with no recorded
    # dependency (a literal `bucket="backups"` in the program): it is still that bucket's policy,
    # since the name is at the bucket's own endpoint (legacy_sites.attached: dependency OR same
    # endpoint; as `and`, the lockdown would be reported missing, and a literal-named policy
    # that lets too much through would not be judged at all).
    by_name_only = replace(c.US_POLICY, deps={})
    # USDR-LEG-01: an outsider granted every action (`s3:*`, 26 of those the site forbids) is
    # named with the first three and the count of the rest (legacy_access.Excess.shown_actions).
    everything = {**c.ALLOW_WRITER, "Principal": {"AWS": c.OUTSIDER}, "Action": "s3:*"}
    # A legacy AWS bucket is data-bearing but is not in an OCI region: the per-region controls
    # (a firewall, a vault, Cloud Guard in every OCI region holding data) do not ask for one
    # at the legacy site (stack_graph.data_regions: an AWS resource has no OCI region).
    with_legacy_bucket = c.estate(add=[c.US_BUCKET])
    # USDR-SEC-11: a firewall that names its policy by a literal OCID (an existing policy, no
    # recorded dependency) is linked to that policy only. Here it enforces a policy without
    # any IDS rule, while the stack's inspecting policy (OCID sorting before it) is attached to
    # no firewall: the region has no IDS. stack_graph.refers_to compares the ids for equality;
    # as `own < value` (the 2026-12-04 survivor, line 29) it linked the firewall to every
    # policy whose OCID sorts before the one it names, and this region passed.
    inspecting_id = "ocid1.networkfirewallpolicy.oc1.iad.aaaa"
    bare_id = "ocid1.networkfirewallpolicy.oc1.iad.bbbb"
    inspecting = c.FW_POLICY_IAD.set(id=inspecting_id)
    bare = replace(c.FW_POLICY_IAD, name="iad-fw-policy-bare").set(id=bare_id)
    by_literal = replace(c.FIREWALL_IAD, deps={"subnetId": ["iad-subnet-firewall"]})
    return [
        c.stack(
            "stack-region-firewall",
            "firewall-names-another-policy-by-id",
            c.estate(swap=[inspecting, by_literal.set(networkFirewallPolicyId=bare_id)], add=[bare]),
            (c.M, "region us-ashburn-1 holds data but has no network firewall with IDS/IPS"),
        ),
        c.stack(
            "stack-region-firewall",
            "firewall-names-its-policy-by-id",
            c.estate(swap=[inspecting, by_literal.set(networkFirewallPolicyId=inspecting_id)]),
            None,
        ),
        c.stack("stack-region-firewall", "legacy-aws-bucket", with_legacy_bucket, None),
        c.stack("stack-region-vault", "legacy-aws-bucket", with_legacy_bucket, None),
        c.one(
            "legacy-replica-writers",
            "many-actions-counted",
            c.US_POLICY.set(policy=c.doc(c.ALLOW_WRITER, everything)),
            (
                c.M,
                f"lets {c.OUTSIDER} s3:PutObject, s3:PutObjectTagging, s3:PutObjectVersionTagging"
                " (+23 more);",
            ),
        ),
        c.stack("legacy-replica-lockdown", "policy-by-name-only", c.estate(swap=[by_name_only]), None),
        c.stack(
            "legacy-replica-lockdown",
            "policy-by-name-only-too-wide",
            c.estate(swap=[by_name_only.set(policy=c.doc(c.ALLOW_WRITER, c.ALLOW_RESTORE))]),
            (c.M, f"does not deny {c.RESTORE} s3:PutObject"),
        ),
        c.stack(
            "security-firewall-ids",
            "policy-without-rules-then-one-that-misses",
            (empty_policy, *c.estate(drop=["iad-fw-list-data"])),
            (c.M, "no intrusion-inspection rule covers data subnet 10.10.0.0/24"),
        ),
    ]
