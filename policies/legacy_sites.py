"""Which declared legacy site an `aws:*` resource talks to, found by its provider's endpoint."""

from __future__ import annotations

from pack_config import LegacySite, PackConfig
from resource_props import Resource, aws_placement


def site_of(res: Resource, cfg: PackConfig) -> LegacySite | None:
    """The legacy site whose S3 endpoint this resource's provider uses, else None."""
    if res.package != "aws":
        return None
    return cfg.site_for_endpoint(aws_placement(res).endpoint)
