"""USDR-RES-08: a location-shaped value in any field of any resource is an approved place.

Judge the value, not the field name (issue 12 items 1 and 3). Every string of a resource's
inputs, nested lists and maps and JSON text included, of every type (`oci:`, `aws:`, dynamic
providers' `pulumi-python:dynamic:Resource`, other packages, components), is read for the
spellings `locations.py` recognises: region identifiers, region keys (whole values only),
availability domains, endpoints, OCID region segments, AWS regions and ARNs. Each is judged:

- an OCI region (identifier, key, AD, OCID segment, endpoint label) by the pack config's
  `decide` against the approved set and the resource's realm (the tenancy's realm, or the realm
  of the resource's own OCI region); a spelling the catalogue does not know, where only a place
  can stand (AD, OCID, cloud endpoint, a field named like a region), is not approved;
- an AWS region: approved only if in `awsAllowedRegions`, or if it is the signing region of the
  declared legacy site the (aws:) resource is at (the site itself is judged by USDR-RES-02).

No double counting: what a dedicated policy judges on its own types is left to it (region-named
fields and OCIDs of `oci:` types: USDR-RES-03/04; the `region` of `aws:` types: USDR-RES-02).
Providers are not judged here (their region is judged through the resources placed on them),
nor is a dynamic provider's serialised code (`__provider`). A value unknown during preview in a
field named like a region fails closed; elsewhere an unknown is an output of another resource
of the program, itself judged. A `[secret]` placeholder (preflight's mask for secret values) in
a region-named field cannot be judged: a violation naming the field. Waivable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from locations import AWS_REGION, Spelling, json_walk, spellings_in
from pack_config import PackConfig, RegionDecision
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pack_runtime import once_per_call
from pulumi_policy import Severity
from resource_props import (
    SECRET_PLACEHOLDER,
    Resource,
    aws_placement,
    dotted,
    is_unknown,
    json_value,
    leaves,
    oci_placement,
    text,
)

from residency.cross_region import REGION_FIELD

SKIPPED_PREFIXES = ("pulumi:providers:", "pulumi:pulumi:Stack")
_SERIALISED_CODE = "__provider"  # pulumi-python dynamic providers: the pickled provider itself
_STRICT_FIELD = re.compile(r"(^|[a-z_])(region|Region|REGION)(Name|Key|Id|s)?$")

META = Meta(
    name="residency-location-values",
    control="USDR-RES-08",
    title="Every location-shaped value, in any field of any resource, is approved",
    description="Region identifiers, region keys, availability domains, endpoints, OCID region segments and "
    "AWS regions found in any input of any resource type (nested, in lists, maps and JSON text) name an "
    "approved region of the tenancy's realm.",
    enforcement=MANDATORY,
    severity=Severity.CRITICAL,
    types=("*",),
    waivable=True,
    remediation="Replace the value with an approved US region of the same realm (or a resource of such a "
    "region: its `.id`, its endpoint), e.g. a backup copy target or replica list naming the stack's DR "
    "partner; an AWS region only after a residency review (awsAllowedRegions). A time-boxed exception "
    "needs a waiver naming the resource.",
)


def _ad_decision(sp: Spelling, res: Resource, cfg: PackConfig, realm: str | None) -> RegionDecision:
    """An AD's region part: a key or identifier, or an identifier without its number."""
    if cfg.resolve(sp.token) is not None:
        return cfg.decide(sp.token, realm)
    stem = sp.token.lower()
    rows: list[tuple[str, str | None]] = (
        [(r.identifier, r.realm) for r in cfg.catalogue] if cfg.catalogue is not None else []
    )
    rows += [(a.identifier, a.realm) for a in cfg.allowed or ()]
    candidates = sorted({i for i, _ in rows if re.sub(r"-[0-9]+$", "", i.lower()) == stem})
    own = oci_placement(res).region if res.package == "oci" else None
    if own in candidates:
        return cfg.decide(own, realm)
    in_realm = sorted({i for i, r in rows if i in candidates and (realm is None or r == realm)})
    if len(in_realm) == 1:
        return cfg.decide(in_realm[0], realm)
    if not candidates:
        return RegionDecision(False, f"region {sp.token!r} is not in the region catalogue", None)
    return RegionDecision(
        False, f"{sp.token!r} could be {', '.join(candidates)}: the region is ambiguous", None
    )


def _aws_allowed(token: str, res: Resource, cfg: PackConfig) -> bool:
    if token in {r.lower() for r in cfg.aws_allowed_regions}:
        return True
    if res.package != "aws":
        return False
    site = cfg.site_for_endpoint(aws_placement(res).endpoint)
    return site is not None and (site.aws_region or "").lower() == token


def _skipped(res: Resource, path: tuple[str, ...], sp: Spelling | None) -> bool:
    """What a dedicated policy judges on its own types."""
    if res.package == "oci":
        return bool(REGION_FIELD.match(path[-1])) or (sp is not None and sp.kind == "ocid")
    if res.package == "aws":
        return path == ("region",)
    return False


# A string can hold a spelling only if it has a digit (regions, ADs, OCIDs, ARNs' regions and
# endpoints' labels all carry one) or is a three-letter key: everything else is skipped unread.
_MAYBE_PLACE = re.compile(r"[0-9]|^\s*[A-Za-z]{3}\s*$")
_LAST_NAME: dict[tuple[str, ...], bool] = {}


def _strict(path: tuple[str, ...]) -> bool:
    """The last field name of the path (not an index) is named like a region."""
    hit = _LAST_NAME.get(path)
    if hit is None:
        named = next((step for step in reversed(path) if not step.isdigit()), "")
        hit = bool(_STRICT_FIELD.search(named))
        if len(_LAST_NAME) < 65536:
            _LAST_NAME[path] = hit
    return hit


# Spellings of one string under one config (they depend on what the catalogue knows): values
# repeat across an estate (compartment OCIDs, namespaces, tags), so each is read once per config.
_SPELLED: list[tuple[PackConfig, dict[str, tuple[Spelling, ...]]]] = []


def _spellings(value: str, cfg: PackConfig) -> tuple[Spelling, ...]:
    slot = _SPELLED[0] if _SPELLED else None
    if slot is None or slot[0] is not cfg:
        slot = (cfg, {})
        _SPELLED[:] = [slot]  # one config at a time; a reconfigured pack starts afresh
    memo = slot[1]
    found = memo.get(value)
    if found is None:
        found = tuple(spellings_in(value, lambda token: cfg.resolve(token) is not None))
        if len(memo) < 200_000:
            memo[value] = found
    return found


def _walked(props: dict[str, Any]) -> tuple[tuple[tuple[str, ...], Any], ...]:
    """`json_walk` of the props without the serialised code, reusing the call's shared walk."""
    out: list[tuple[tuple[str, ...], Any]] = []
    for path, value in leaves(props):
        if path and path[0] == _SERIALISED_CODE:
            continue
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            parsed = json_value(value)
            if isinstance(parsed, dict | list):
                out.extend(json_walk(parsed, path))
                continue
        out.append((path, value))
    return tuple(out)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    if res.type.startswith(SKIPPED_PREFIXES):
        return
    own = oci_placement(res) if res.package == "oci" else None
    own_ref = cfg.resolve(own.region) if own is not None else None
    realm = cfg.required_realm or (own_ref.realm if own_ref else None)

    seen: set[tuple[str, str]] = set()
    for path, value in once_per_call(_walked, res.props):
        if not path:
            continue
        strict_field = _strict(path) and not _skipped(res, path, None)
        if strict_field:
            if is_unknown(value):
                yield Finding(
                    f"{dotted(path)} is unknown during preview: the location cannot be proven approved"
                )
                continue
            if value == SECRET_PLACEHOLDER:
                yield Finding(f"{dotted(path)} is secret: the location cannot be judged")
                continue
        if not isinstance(value, str) or (not strict_field and not _MAYBE_PLACE.search(value)):
            continue
        if not text(value):
            continue
        found: tuple[Spelling, ...] | list[Spelling] = _spellings(value, cfg)
        if strict_field and not found:
            whole = value.strip()
            if re.fullmatch(r"[A-Za-z]{2}(-[A-Za-z]+)+-[0-9]{1,2}", whole):
                found = [
                    Spelling("aws-region" if AWS_REGION.match(whole) else "region", whole, whole, strict=True)
                ]
        if not found:
            continue
        where = dotted(path)
        for sp in found:
            if _skipped(res, path, sp) or (where, sp.text) in seen:
                continue
            seen.add((where, sp.text))
            yield from _judge(sp, where, res, cfg, realm, own_ref)


def _judge(
    sp: Spelling, where: str, res: Resource, cfg: PackConfig, realm: str | None, own_ref: Any
) -> Iterator[Finding]:
    shown = f"{where} = {sp.text!r}" if sp.text != sp.token else f"{where} = {sp.token!r}"
    if sp.kind == "ocid":
        if realm is not None and sp.realm != realm:
            yield Finding(f"{shown}: OCID in realm {sp.realm}, not {realm}")
            return
        if not sp.token:
            return  # a global resource (tenancy, compartment): no region
    aws_shaped = sp.kind in ("aws-region", "arn") or (
        sp.kind == "endpoint" and bool(AWS_REGION.match(sp.token))
    )
    if aws_shaped and cfg.resolve(sp.token) is None:
        if not _aws_allowed(sp.token.lower(), res, cfg):
            allowed = ", ".join(cfg.aws_allowed_regions) or "none"
            yield Finding(f"{shown}: AWS region {sp.token} is not approved (awsAllowedRegions: {allowed})")
        return
    d = _ad_decision(sp, res, cfg, realm) if sp.kind == "ad" else cfg.decide(sp.token, realm)
    if not d.allowed:
        yield Finding(f"{shown} ({sp.kind}): {d.reason}; approved: {cfg.approved_text}")
    elif own_ref is not None and d.region is not None and own_ref.realm and d.region.realm != own_ref.realm:
        yield Finding(
            f"{shown}: {d.region.identifier} is in {d.region.realm}, the resource in {own_ref.realm}"
        )


POLICY = resource_policy(META, check)
