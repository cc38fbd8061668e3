"""The stack as a graph for stack policies: which region a resource is in, what refers to what.

References are found three ways, because props differ between callers: the referencing
prop equals the target's id or name (AnalyzeStack outputs, a real `pulumi up`), or the
engine recorded the dependency (preview and offline synthesis, where ids are unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pack_config import PackConfig
from resource_props import Resource, is_unknown, oci_placement, text


def region_of(res: Resource, cfg: PackConfig) -> str | None:
    """The catalogue identifier of an OCI resource's region, None if it cannot be told."""
    place = oci_placement(res)
    ref = cfg.resolve(place.region)
    return ref.identifier if ref is not None else place.region


def refers_to(src: Resource, prop: str, target: Resource, *id_props: str) -> bool:
    """Does `src.props[prop]` point at `target` (by id/name value or by recorded dependency)?"""
    value = src.props.get(prop)
    if not is_unknown(value) and text(value):
        for key in ("id", *id_props):
            own = target.props.get(key)
            if text(own) and own == value:
                return True
    return src.depends_on(target.urn, prop) or (is_unknown(value) and target.urn in src.dependencies)


def of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def data_regions(resources: Sequence[Resource], cfg: PackConfig) -> dict[str, list[Resource]]:
    """Regions that hold data: where OCI data-bearing resources are, with those resources."""
    out: dict[str, list[Resource]] = {}
    for r in resources:
        if r.type in cfg.data_bearing_types and r.package == "oci":
            region = region_of(r, cfg)
            if region is not None:
                out.setdefault(region, []).append(r)
    return out
