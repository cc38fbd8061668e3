"""Legacy sites: which declared site an `aws:*` resource talks to, and the buckets kept there.

A resource is at a site when its provider's endpoint for the resource's service (`s3`) is
the site's declared endpoint. Attachments (bucket policy, lifecycle, versioning, object lock)
are linked to their bucket by the `bucket` prop: name, id or recorded dependency.
"""

from __future__ import annotations

from collections.abc import Sequence

from pack_config import LegacySite, PackConfig
from resource_props import Resource, aws_placement
from stack_graph import refers_to

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


def site_of(res: Resource, cfg: PackConfig) -> LegacySite | None:
    """The legacy site whose S3 endpoint this resource's provider uses, else None."""
    if res.package != "aws":
        return None
    return cfg.site_for_endpoint(aws_placement(res).endpoint)


def legacy_buckets(resources: Sequence[Resource], cfg: PackConfig) -> list[tuple[Resource, LegacySite]]:
    out = []
    for r in resources:
        if r.type in BUCKETS:
            site = site_of(r, cfg)
            if site is not None:
                out.append((r, site))
    return out


def attached(bucket: Resource, resources: Sequence[Resource], *types: str) -> list[Resource]:
    """Resources of `types` whose `bucket` prop points at `bucket` (by name, id or dependency).

    A bucket name is unique per S3 endpoint only: two sites may both have a `backups` bucket.
    So a name links a resource to the bucket only at the same endpoint; a dependency always does.
    """
    where = aws_placement(bucket).endpoint
    return [
        r
        for r in resources
        if r.type in types
        and refers_to(r, "bucket", bucket, "bucket")
        and (r.depends_on(bucket.urn) or aws_placement(r).endpoint == where)
    ]
