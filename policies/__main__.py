"""The us-data-residency policy pack: the list of policies, nothing else.

Run by the Pulumi CLI (`pulumi preview --policy-pack policies`); constructing PolicyPack
starts the analyzer server and never returns, so nothing may import this module.
"""

import pack_runtime
from lifecycle import (
    bucket_inline_conflicts,
    data_protected,
    replica_destinations,
    replica_expiry,
    replica_lockdown,
    replica_retention,
    replica_writers,
)
from pulumi_policy import EnforcementLevel, PolicyPack
from residency import (
    aws_location,
    cross_region,
    iam_access_conditions,
    iam_home_region,
    iam_statements,
    location_values,
    oci_region,
    referenced_ocids,
    unplaced_types,
    waived_findings,
    waiver_expiry,
)
from security import (
    admin_ingress,
    bucket_cmk,
    bucket_not_public,
    bucket_object_events,
    bucket_public_writes,
    bucket_versioning,
    data_ingress,
    egress_firewall,
    exposure_union,
    firewall_ids,
    key_hsm,
    key_rotation,
    par_public_read,
    region_cloud_guard,
    region_firewall,
    region_vault,
    required_tags,
    subnet_flow_logs,
)

pack_runtime.install()  # parse each request once, not once per policy (same results, faster)

PolicyPack(
    name="us-data-residency",
    description="Residency as a hard gate (US user data only in approved US OCI regions and declared legacy "
    "sites, time-boxed waivers), security as a floor (CMK, private, versioned buckets; HSM keys; IDS; flow "
    "logs).",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        # residency (mandatory; waived findings are reported by residency-waived, advisory)
        oci_region.POLICY,
        aws_location.POLICY,
        cross_region.POLICY,
        referenced_ocids.POLICY,
        location_values.POLICY,
        unplaced_types.POLICY,
        iam_home_region.POLICY,
        iam_statements.POLICY,
        iam_access_conditions.POLICY,
        waived_findings.POLICY,
        waiver_expiry.POLICY,
        # security floor
        bucket_cmk.POLICY,
        bucket_not_public.POLICY,
        bucket_versioning.POLICY,
        bucket_object_events.POLICY,
        key_hsm.POLICY,
        key_rotation.POLICY,
        firewall_ids.POLICY,
        admin_ingress.POLICY,
        data_ingress.POLICY,
        exposure_union.POLICY,
        egress_firewall.POLICY,
        par_public_read.POLICY,
        bucket_public_writes.POLICY,
        required_tags.POLICY,
        region_firewall.POLICY,
        region_vault.POLICY,
        region_cloud_guard.POLICY,
        subnet_flow_logs.POLICY,
        # lifecycle
        replica_writers.POLICY,
        replica_lockdown.POLICY,
        replica_expiry.POLICY,
        replica_retention.POLICY,
        bucket_inline_conflicts.POLICY,
        replica_destinations.POLICY,
        data_protected.POLICY,
    ],
)
