"""`preflight diff`: what a change does to the estate, as a pull-request comment.

    preflight diff --base origin/main [--stack prod] [--format markdown|json] [--out FILE]

The program is synthesized twice, each time in a fresh interpreter (`synthesize_isolated`, so
modules of the two versions never mix): at the base ref, checked out into a temporary
`git worktree` (the user's working tree and index are never touched; the worktree is removed
even when something fails), and at the working tree as it is. The policy pack runs on both
(`preflight.analyze`). The two inventories are compared by URN:

* create / update / delete, and **replace** where a changed input forces replacement
  (`preflight/data/replace_properties.yaml`, documented in docs/replacements.md), the
  effective region changed, or a delete and a create of the same type look like one resource
  renamed without `aliases`;
* per-resource property diffs (wire names, stable order; secrets are `[secret]`);
* policy findings introduced, resolved, and changed (e.g. a waiver turned one advisory);
* the residency map's change (Mermaid), and
* a BLOCKING section at the top for any delete or replace of a protected or data-bearing
  resource (buckets, vaults, keys, logs, legacy replica buckets); a legacy site's delete shows
  its sunset date.

Exit codes (shared/DESIGN.md): 0 nothing blocking; 1 a blocking change or a blocking finding
introduced by this change; 2 bad input (not a git repository, unknown ref, bad stack); 3
internal failure (a program raised, the pack crashed). The Markdown stays under 64,000
characters (GitHub's comment limit is 65,536); what did not fit is counted, never dropped silently.

Both sides are judged by the same policy pack (the working tree's, or --policy-pack): the
question is what this change does to the estate, measured with one ruler. Each side gets the
policy config of its own stack file, so a waiver added or removed by the change shows up as a
changed finding.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, cast

from preflight import diff_cache, offline
from preflight.engine.result import SynthResult
from preflight.errors import EXIT_BLOCKED, EXIT_OK, BadInput, InternalFailure, PreflightError
from preflight.masking import (
    is_secret_key,
    known_secrets,
    mask_finding,
    mask_shown,
    mask_text,
    register_secret_values,
    secret_output_names,
)
from preflight.model import Finding, ResourceRecord
from preflight.replacements import ReplaceTable, load_table, top_property

MAX_COMMENT_CHARS = 64_000
MARKER = "<!-- preflight-diff"  # the hidden first line CI finds the comment by
SECRET = "[secret]"  # noqa: S105 - the synth's placeholder (preflight.project.SECRET_PLACEHOLDER)
UNKNOWN = "[unknown]"
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
# This project's pinned "today" (stacks/settings.py TODAY_ENV): sunset countdowns in tests are stable.
TODAY_ENV = "USDR_TODAY"
# Inputs that name another region: the edges of the residency map.
CROSS_REGION_FIELDS = ("destinationRegionName", "peerRegionName", "replicaRegion", "destinationRegion")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_IGNORED_INPUTS = frozenset({"__defaults", "__meta"})
_MAX_VALUE_CHARS = 300
_MAX_PROPERTY_LINES = 120
_MAX_MESSAGE_CHARS = 300

Action = Literal["create", "update", "replace", "delete"]
_ACTION_ORDER: dict[str, int] = {"replace": 0, "delete": 1, "update": 2, "create": 3}


class _Missing:
    """An absent property (distinct from any JSON value)."""

    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()


# --------------------------------------------------------------------------- model of a diff


@dataclass
class PropertyChange:
    path: str  # wire path: `freeformTags.env`, `cidrBlocks[1]`, `keyShape.length`
    old: Any  # MISSING when added
    new: Any  # MISSING when removed
    replaces: str | None = None  # why this change forces replacement
    caution: str | None = None  # in place, but disruptive
    secret: bool = False  # a secret value changed (both sides are shown as [secret])
    # What the change is inside, for a reader: a policy statement's Sid and Effect.
    context: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.old is not MISSING:
            out["old"] = self.old
        if self.new is not MISSING:
            out["new"] = self.new
        if self.replaces:
            out["forces_replacement"] = self.replaces
        if self.caution:
            out["caution"] = self.caution
        if self.secret:
            out["secret"] = True
        if self.context:
            out["context"] = self.context
        return out


@dataclass
class ResourceChange:
    action: Action
    urn: str  # the head URN (the base URN for a delete)
    type: str
    name: str
    region: str | None
    old_urn: str | None = None  # set for a rename (URN changed) and for deletes
    old_region: str | None = None
    protect: bool = False
    data_bearing: bool = False
    reasons: list[str] = field(default_factory=list)  # why it is a replace
    properties: list[PropertyChange] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)  # why it blocks the merge
    sunset: str | None = None  # legacy site sunset shown with a delete/replace
    location: str | None = None
    remedy: str | None = None
    unprotected: bool = False  # protect removed by this change

    @property
    def is_blocking(self) -> bool:
        return bool(self.blocking)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "urn": self.urn,
            "old_urn": self.old_urn,
            "type": self.type,
            "name": self.name,
            "region": self.region,
            "old_region": self.old_region,
            "protect": self.protect,
            "data_bearing": self.data_bearing,
            "reasons": list(self.reasons),
            "blocking": list(self.blocking),
            "sunset": self.sunset,
            "location": self.location,
            "remedy": self.remedy,
            "unprotected": self.unprotected,
            "properties": [p.to_dict() for p in self.properties],
        }


@dataclass
class FindingDelta:
    introduced: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    changed: list[tuple[Finding, Finding]] = field(default_factory=list)  # (base, head)
    still_blocking: int = 0  # blocking on both sides: not this change's doing (the gate reports them)

    @property
    def introduced_blocking(self) -> list[Finding]:
        """Blocking in the head and not blocking (or absent) in the base."""
        return [f for f in self.introduced if f.blocking] + [
            h for b, h in self.changed if h.blocking and not b.blocking
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "introduced": [f.to_dict() for f in self.introduced],
            "resolved": [f.to_dict() for f in self.resolved],
            "changed": [{"base": b.to_dict(), "head": h.to_dict()} for b, h in self.changed],
            "introduced_blocking": len(self.introduced_blocking),
            "still_blocking": self.still_blocking,
        }


@dataclass
class Place:
    """A node of the residency map: an OCI region, or a legacy site's endpoint region."""

    key: str
    base: int = 0  # resources there before
    head: int = 0  # and after
    actions: Counter[str] = field(default_factory=Counter)


@dataclass
class ResidencyChange:
    """One change in residency terms: a legacy site added, removed or moved (sunset, mode,
    country), a waiver added, removed, moved or about to expire, an approved region added or
    removed. `kind` is `added`, `removed` or `changed` (drawn like the map's places)."""

    subject: str  # "legacy site legacy-sg", "waiver legacy-sg", "approved region us-chicago-1"
    kind: str
    what: str


@dataclass
class RegionDelta:
    places: list[Place]
    edges_added: list[tuple[str, str, str]]
    edges_removed: list[tuple[str, str, str]]
    edges_kept: list[tuple[str, str, str]]
    # What changed in residency terms, from the two stack configs (_residency_changes).
    residency: list[ResidencyChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "residency": [asdict(c) for c in self.residency],
            "places": [
                {"place": p.key, "base": p.base, "head": p.head, "actions": dict(p.actions)}
                for p in self.places
            ],
            "edges_added": [list(e) for e in self.edges_added],
            "edges_removed": [list(e) for e in self.edges_removed],
            "edges_kept": [list(e) for e in self.edges_kept],
        }


@dataclass
class Side:
    """One version of the estate: its resources, its findings, and its stack config (for sunsets)."""

    resources: list[ResourceRecord]
    findings: list[Finding] = field(default_factory=list)
    config: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    exists: bool = True  # False: the project or stack did not exist at the base
    # The pack's policies as this side's policy config sets them (GetAnalyzerInfo after Configure).
    policies: list[dict[str, Any]] = field(default_factory=list)
    judged_by: str = ""  # which policy config judged this side (said in the comment)

    @property
    def policies_disabled(self) -> list[str]:
        return sorted(str(p.get("name")) for p in self.policies if p.get("enforcement") == "disabled")


@dataclass
class DiffResult:
    stack: str
    base_label: str
    head_label: str
    changes: list[ResourceChange]
    unchanged: int
    findings: FindingDelta
    regions: RegionDelta
    notes: list[str] = field(default_factory=list)
    uncovered_types: list[str] = field(default_factory=list)  # changed types the replace table lacks
    policies_total: int = 0  # the head's pack
    policies_disabled: list[str] = field(default_factory=list)  # by the head's policy config
    base_policies_disabled: list[str] = field(default_factory=list)
    judged: str = ""  # how each side's findings were judged: one policy config or each its own
    cached: bool = False  # the base side came from the diff cache

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(ch.action for ch in self.changes)
        return {a: c.get(a, 0) for a in ("create", "update", "replace", "delete")} | {
            "unchanged": self.unchanged
        }

    @property
    def blocking_changes(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.is_blocking]

    @property
    def blocked(self) -> bool:
        return bool(self.blocking_changes or self.findings.introduced_blocking)

    @property
    def exit_code(self) -> int:
        return EXIT_BLOCKED if self.blocked else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "base": self.base_label,
            "head": self.head_label,
            "summary": self.counts
            | {
                "blocking_changes": len(self.blocking_changes),
                "findings_introduced": len(self.findings.introduced),
                "findings_resolved": len(self.findings.resolved),
                "blocking_findings_introduced": len(self.findings.introduced_blocking),
                "blocked": self.blocked,
                "policies_disabled_count": len(self.policies_disabled),
            },
            "policies_disabled": list(self.policies_disabled),
            "base_policies_disabled": list(self.base_policies_disabled),
            "changes": [c.to_dict() for c in self.changes],
            "findings": self.findings.to_dict(),
            "regions": self.regions.to_dict(),
            "notes": list(self.notes),
            "uncovered_types": list(self.uncovered_types),
            "judged": self.judged,
            "base_cached": self.cached,
        }


# --------------------------------------------------------------------------- values


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, dict | list)


def _absent(v: Any) -> bool:
    """Pulumi treats null, a missing key and an empty collection alike on the wire."""
    return v is MISSING or v is None or (isinstance(v, dict | list) and not v)


def _join(path: str, key: str) -> str:
    seg = key if _SIMPLE_KEY.match(key) else json.dumps(key)
    if not path:
        return seg
    return f"{path}.{seg}" if _SIMPLE_KEY.match(key) else f"{path}[{seg}]"


def _leaf_key(path: str) -> str:
    m = re.search(r"""(?:^|\.)([A-Za-z_][A-Za-z0-9_-]*)$|\["((?:[^"\\]|\\.)*)"\]$""", path)
    if not m:
        return ""
    return m.group(1) or m.group(2) or ""


def _secret_path(path: str) -> bool:
    return any(is_secret_key(seg) for seg in re.split(r"[.\[\]\"]+", path) if seg)


def diff_values(old: Any, new: Any, path: str = "") -> list[PropertyChange]:
    """Property-level changes between two wire values, in a stable order."""
    if _absent(old) and _absent(new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[PropertyChange] = []
        for key in sorted(set(old) | set(new)):
            if not path and key in _IGNORED_INPUTS:
                continue
            out += diff_values(old.get(key, MISSING), new.get(key, MISSING), _join(path, key))
        return out
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path)
    if isinstance(old, str) and isinstance(new, str) and old != new:
        parsed = _json_documents(old, new)
        if parsed is not None:
            # A policy document (or any JSON-valued property): diffed as the document it is, so the
            # comment names the statement, principal or action that changed; formatting alone is
            # no change (the AWS provider suppresses equivalent policy JSON too).
            return diff_values(parsed[0], parsed[1], path)
    if _absent(old) and isinstance(new, dict | list):
        return _whole(new, path, added=True)
    if _absent(new) and isinstance(old, dict | list):
        return _whole(old, path, added=False)
    if _same(old, new):
        return []
    return [PropertyChange(path, MISSING if _absent(old) else old, MISSING if _absent(new) else new)]


def _json_documents(old: str, new: str) -> tuple[Any, Any] | None:
    """Both strings parsed, when both hold a JSON object or array; else None."""
    if not (old.lstrip()[:1] in ("{", "[") and new.lstrip()[:1] in ("{", "[")):
        return None
    try:
        a, b = json.loads(old), json.loads(new)
    except ValueError:
        return None
    if isinstance(a, dict | list) and isinstance(b, dict | list):
        return a, b
    return None


def _sid(value: Any) -> str | None:
    if isinstance(value, dict):
        sid = value.get("Sid", value.get("sid"))
        return sid if isinstance(sid, str) and sid else None
    return None


def _statement_context(path: str, statement: Mapping[str, Any]) -> str:
    parts = [f"Sid {statement.get('Sid', statement.get('sid'))}"]
    if isinstance(statement.get("Effect"), str):
        parts.append(f"Effect {statement['Effect']}")
    return f"{path}: " + ", ".join(parts)


def _diff_by_sid(old: list[Any], new: list[Any], path: str) -> list[PropertyChange] | None:
    """Policy statements paired by their Sid, when every statement on both sides has a distinct
    one: a reordered or inserted statement is then not a change to its neighbours."""
    sids_old, sids_new = [_sid(v) for v in old], [_sid(v) for v in new]
    if None in sids_old or None in sids_new or not old or not new:
        return None
    if len(set(sids_old)) != len(old) or len(set(sids_new)) != len(new):
        return None
    where_old = {sid: i for i, sid in enumerate(sids_old)}
    out: list[PropertyChange] = []
    for j, statement in enumerate(new):
        at = f"{path}[{j}]"
        i = where_old.get(sids_new[j])
        changes = diff_values(old[i] if i is not None else MISSING, statement, at)
        for change in changes:
            change.context = _statement_context(at, statement)
        out += changes
    for i, statement in enumerate(old):
        if sids_old[i] not in set(sids_new):
            at = f"{path}[{i}]"
            for change in diff_values(statement, MISSING, at):
                change.context = _statement_context(at, statement) + " (removed)"
                out.append(change)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _whole(value: Any, path: str, *, added: bool) -> list[PropertyChange]:
    """Every leaf of a value that appeared or disappeared as a whole."""
    empty: Any = {} if isinstance(value, dict) else []
    return diff_values(empty, value, path) if added else diff_values(value, empty, path)


def _diff_lists(old: list[Any], new: list[Any], path: str) -> list[PropertyChange]:
    """Insert/remove-aware: removing the second of four route rules is that rule's lines, not
    changes to rules 2, 3 and 4. Runs of replaced elements of equal length diff pairwise."""
    by_sid = _diff_by_sid(old, new, path)
    if by_sid is not None:
        return by_sid
    out: list[PropertyChange] = []
    key = [json.dumps(v, sort_keys=True) for v in old], [json.dumps(v, sort_keys=True) for v in new]
    matcher = difflib.SequenceMatcher(a=key[0], b=key[1], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                out += diff_values(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]")
            continue
        for i in range(i1, i2):
            out += diff_values(old[i], MISSING, f"{path}[{i}]")
        for j in range(j1, j2):
            out += diff_values(MISSING, new[j], f"{path}[{j}]")
    return out


def _masked_change(
    change: PropertyChange, secret_names: Iterable[str] = (), known: frozenset[str] = frozenset()
) -> PropertyChange:
    """The change as the PR may show it, masked by preflight/masking.py as every other output is:
    under a secret key, a property the record lists in additionalSecretOutputs, a value secret
    elsewhere in the estate, a credential-looking value, the wire secret form."""
    secret = top_property(change.path) in set(secret_names) or _secret_path(change.path)

    def shown(value: Any) -> Any:
        return MISSING if value is MISSING else mask_shown(value, secret=secret, known=known)

    old, new = shown(change.old), shown(change.new)
    secret = SECRET in (old, new) and change.old is not MISSING and change.new is not MISSING
    return PropertyChange(change.path, old, new, change.replaces, change.caution, secret, change.context)


def _similarity(fa: Mapping[str, str], fb: Mapping[str, str]) -> float:
    """Share of equal leaves between two flattened input sets."""
    keys = set(fa) | set(fb)
    if not keys:
        return 1.0
    return sum(1 for k in keys if k in fa and k in fb and fa[k] == fb[k]) / len(keys)


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k in sorted(value):
            yield from _leaves(value[k], _join(path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, json.dumps(value, sort_keys=True)


# --------------------------------------------------------------------------- sunsets


def _today() -> date:
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        with contextlib.suppress(ValueError):
            return date.fromisoformat(pinned)
    return datetime.now(UTC).date()


def _tags(record: ResourceRecord) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key in ("freeformTags", "tags", "tagsAll"):
        value = record.inputs.get(key)
        if isinstance(value, dict):
            tags.update({str(k): str(v) for k, v in value.items()})
    return tags


def _legacy_sites(config: Mapping[str, Any]) -> dict[str, str]:
    """site name -> sunset (YYYY-MM-DD) from any `<ns>:legacySites` mapping of the stack config."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if key.endswith(":legacySites") and isinstance(value, Mapping):
            for site, spec in value.items():
                if isinstance(spec, Mapping) and spec.get("sunset"):
                    out[str(site)] = str(spec["sunset"])[:10]
    return out


def _sunset_of(
    record: ResourceRecord, sites: Mapping[str, str], by_urn: Mapping[str, ResourceRecord]
) -> str | None:
    """The sunset date of the legacy site a resource belongs to, when it can be told."""
    tags = _tags(record)
    for key in ("sunset", "usdr:sunset", "sunset-date"):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", tags.get(key, "")[:10]):
            return tags[key][:10]
    site = tags.get("legacy-site")
    if site and site in sites:
        return sites[site]
    # The resource, its provider or any ancestor named after a site (`legacy-sg`, `legacy-sg-s3`).
    names = [record.name]
    if record.provider:
        names.append(record.provider.split("::")[3] if record.provider.count("::") >= 3 else record.provider)
    parent = by_urn.get(record.parent or "")
    while parent is not None and parent.type != STACK_TYPE:
        names.append(parent.name)
        parent = by_urn.get(parent.parent or "")
    for site in sorted(sites, key=len, reverse=True):
        if any(n == site or n.startswith(f"{site}-") for n in names):
            return sites[site]
    return None


def _config_value(config: Mapping[str, Any], name: str) -> Any:
    """`<ns>:name` of a structured stack config (the project's namespace, whatever it is)."""
    for key, value in config.items():
        if key.endswith(f":{name}"):
            return value
    return None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _moved(old: Any, new: Any) -> str:
    """`2027-06-30 → 2027-12-31 (183 days later)`."""
    a, b = _day(old), _day(new)
    text = f"{old} → {new}"
    if a and b and a != b:
        days = (b - a).days
        text += f" ({abs(days)} days {'later' if days > 0 else 'earlier'})"
    return text


WAIVER_WARN_DAYS = 30  # the pack's residency-waived warns this many days before expiry


def _residency_changes(
    base: Mapping[str, Any], head: Mapping[str, Any], today: date
) -> list[ResidencyChange]:
    """What the change does in residency terms, read from the two sides' stack configs: legacy
    sites (added, removed, sunset moved, mode or country changed), waivers (added, removed,
    expiry moved, expiring within WAIVER_WARN_DAYS or expired on the head) and the approved
    regions. Values that are not what the settings allow are compared as text, never dropped."""
    out: list[ResidencyChange] = []
    old_sites = _config_value(base, "legacySites")
    new_sites = _config_value(head, "legacySites")
    old_sites = old_sites if isinstance(old_sites, Mapping) else {}
    new_sites = new_sites if isinstance(new_sites, Mapping) else {}
    for site in sorted(set(old_sites) | set(new_sites), key=str):
        subject = f"legacy site {site}"
        a, b = old_sites.get(site), new_sites.get(site)
        a = a if isinstance(a, Mapping) else {}
        b = b if isinstance(b, Mapping) else {}
        if site not in old_sites:
            out.append(
                ResidencyChange(
                    subject,
                    "added",
                    f"{b.get('country', '?')} · mode {b.get('mode', '?')} · sunset {b.get('sunset', 'none')}",
                )
            )
            continue
        if site not in new_sites:
            out.append(
                ResidencyChange(
                    subject, "removed", f"was {a.get('country', '?')} · mode {a.get('mode', '?')}"
                )
            )
            continue
        for key in ("country", "mode", "sunset"):
            if str(a.get(key)) != str(b.get(key)):
                what = _moved(a.get(key), b.get(key)) if key == "sunset" else f"{a.get(key)} → {b.get(key)}"
                out.append(ResidencyChange(subject, "changed", f"{key} {what}"))

    def waivers(config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        items = _config_value(config, "waivers")
        found: dict[str, Mapping[str, Any]] = {}
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping) and item.get("target"):
                found[str(item["target"])] = item
        return found

    old_w, new_w = waivers(base), waivers(head)
    for target in sorted(set(old_w) | set(new_w)):
        subject = f"waiver {target}"
        a, b = old_w.get(target, {}), new_w.get(target, {})
        if target not in old_w:
            out.append(
                ResidencyChange(
                    subject, "added", f"owner {b.get('owner', '?')} · expires {b.get('expires', '?')}"
                )
            )
        elif target not in new_w:
            out.append(ResidencyChange(subject, "removed", f"was until {a.get('expires', '?')}"))
        elif str(a.get("expires")) != str(b.get("expires")):
            out.append(
                ResidencyChange(subject, "changed", f"expires {_moved(a.get('expires'), b.get('expires'))}")
            )
        if target in new_w:
            end = _day(b.get("expires"))
            if end is not None and (end - today).days < 0:
                out.append(ResidencyChange(subject, "changed", f"expired on {end.isoformat()}"))
            elif end is not None and (end - today).days <= WAIVER_WARN_DAYS:
                out.append(
                    ResidencyChange(
                        subject, "changed", f"expires in {(end - today).days} days ({end.isoformat()})"
                    )
                )

    old_r, new_r = _config_value(base, "regions"), _config_value(head, "regions")
    old_r = set(old_r) if isinstance(old_r, Mapping) else set()
    new_r = set(new_r) if isinstance(new_r, Mapping) else set()
    for r in sorted(new_r - old_r, key=str):
        out.append(ResidencyChange(f"approved region {r}", "added", "now deployed to"))
    for r in sorted(old_r - new_r, key=str):
        out.append(ResidencyChange(f"approved region {r}", "removed", "no longer deployed to"))
    return out


def _sunset_text(sunset: str, today: date) -> str:
    try:
        days = (date.fromisoformat(sunset) - today).days
    except ValueError:
        return sunset
    if days > 0:
        return f"{sunset} (in {days} days)"
    if days == 0:
        return f"{sunset} (today)"
    return f"{sunset} ({-days} days ago)"


# --------------------------------------------------------------------------- comparing two sides


def _managed(resources: Iterable[ResourceRecord]) -> dict[str, ResourceRecord]:
    """The resources a deployment creates: custom resources and providers, not components or the stack."""
    return {r.urn: r for r in resources if r.custom and r.type != STACK_TYPE}


def _provider_name(ref: str | None) -> str:
    if not ref:
        return ""
    parts = ref.split("::")
    return parts[3] if len(parts) > 3 else ref


def _aliases(record: ResourceRecord) -> list[str]:
    raw = (getattr(record, "options", None) or {}).get("aliases") or []
    return [a for a in raw if isinstance(a, str)]


def compare(
    base: Side,
    head: Side,
    *,
    stack: str,
    table: ReplaceTable | None = None,
    today: date | None = None,
) -> DiffResult:
    """The change from `base` to `head`: resource actions, findings, residency map, blocking."""
    table = table or load_table()
    today = today or _today()
    old, new = _managed(base.resources), _managed(head.resources)
    old_all = {r.urn: r for r in base.resources}
    known = known_secrets([*base.resources, *head.resources])
    sites = _legacy_sites(head.config) | _legacy_sites(base.config)  # a removed site is only in the base

    # Pair head resources with base resources: same URN, or an alias naming the base URN.
    pairs: dict[str, str] = {}  # head urn -> base urn
    for urn in new:
        if urn in old:
            pairs[urn] = urn
        else:
            alias = next((a for a in _aliases(new[urn]) if a in old and a not in new), None)
            if alias:
                pairs[urn] = alias
    created = [u for u in new if u not in pairs]
    deleted = [u for u in old if u not in set(pairs.values())]
    # The engine keeps an aliased resource's state, ID included: what refers to it on the head
    # side is compared with the base's ID, so its dependants show no change that is not one.
    new = _carry_ids(new, pairs, old)
    new_all = {r.urn: new.get(r.urn, r) for r in head.resources}
    renames = _pair_renames(created, deleted, old, new)

    changes: list[ResourceChange] = []
    unchanged = 0
    for head_urn, base_urn in pairs.items():
        change = _compare_one(
            old[base_urn], new[head_urn], table, renamed=False, known=known, providers=(old_all, new_all)
        )
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    for head_urn, base_urn in renames.items():
        change = _compare_one(
            old[base_urn], new[head_urn], table, renamed=True, known=known, providers=(old_all, new_all)
        )
        assert change is not None
        changes.append(change)
    for urn in created:
        if urn in renames:
            continue
        r = new[urn]
        changes.append(
            ResourceChange(
                "create", urn, r.type, r.name, r.region, protect=r.protect,
                data_bearing=table.data_bearing(r.type), location=r.location,
            )
        )  # fmt: skip
    renamed_from = set(renames.values())
    for urn in deleted:
        if urn in renamed_from:
            continue
        r = old[urn]
        changes.append(
            ResourceChange(
                "delete", urn, r.type, r.name, r.region, old_urn=urn, old_region=r.region, protect=r.protect,
                data_bearing=table.data_bearing(r.type), location=r.location,
            )
        )  # fmt: skip

    for ch in changes:
        _judge(ch, table, old, old_all, sites, today)
    changes.sort(key=lambda c: (_ACTION_ORDER[c.action], c.type, c.name, c.urn))

    urn_map = {b: h for h, b in {**pairs, **renames}.items()}
    findings = _compare_findings(base.findings, head.findings, urn_map)
    regions = _compare_regions(old, new, changes)
    regions.residency = _residency_changes(base.config if base.exists else {}, head.config, today)
    uncovered = sorted(
        {c.type for c in changes if c.action in ("update", "replace") and table.rule(c.type) is None}
    )
    notes: list[str] = []
    if not base.exists:
        notes.append(f"The stack did not exist at the base ({base.label}): everything is a create.")
    if uncovered:
        notes.append(
            "Types missing from the replace table (preflight/data/replace_properties.yaml), "
            "so a replace is predicted only from region and URN changes: "
            + ", ".join(f"`{t}`" for t in uncovered)
        )
    return DiffResult(
        stack=stack,
        base_label=base.label,
        head_label=head.label,
        changes=changes,
        unchanged=unchanged,
        findings=findings,
        regions=regions,
        notes=notes,
        uncovered_types=uncovered,
        policies_total=len(head.policies),
        policies_disabled=head.policies_disabled,
        base_policies_disabled=base.policies_disabled if base.exists else [],
    )


def _carry_ids(
    new: dict[str, ResourceRecord], pairs: Mapping[str, str], old: Mapping[str, ResourceRecord]
) -> dict[str, ResourceRecord]:
    """Head records as the engine sees them: an aliased resource keeps the base's ID (its state
    moves to the new URN, pkg/resource/deploy/step_generator.go), so every head value that holds
    its offline ID (or its provider reference `urn::id`) holds the base's instead. Offline IDs
    follow the URN; without this a rename with an alias would change the ID every attachment
    refers to and show them all as replaced."""
    ids: dict[str, str] = {}
    for head_urn, base_urn in pairs.items():
        if head_urn == base_urn:
            continue
        hid, bid = new[head_urn].id, old[base_urn].id
        if hid and bid and hid != bid:
            ids[f"{head_urn}::{hid}"] = f"{base_urn}::{bid}"
            ids[hid] = bid
    if not ids:
        return new
    pattern = re.compile("|".join(re.escape(k) for k in sorted(ids, key=len, reverse=True)))

    def carried(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: ids[m.group(0)], value) if pattern.search(value) else value
        if isinstance(value, dict):
            return {k: carried(v) for k, v in value.items()}
        if isinstance(value, list):
            return [carried(v) for v in value]
        return value

    out: dict[str, ResourceRecord] = {}
    for urn, record in new.items():
        inputs = carried(record.inputs)
        provider = carried(record.provider) if record.provider else record.provider
        if inputs != record.inputs or provider != record.provider:
            record = dataclasses.replace(record, inputs=inputs, provider=provider)
        out[urn] = record
    return out


def _ref_urn(ref: str) -> str:
    return ref.rsplit("::", 1)[0]


_PROVIDER_INTERNAL = frozenset({"version", "pluginDownloadURL"})


def _provider_move(
    a: ResourceRecord,
    b: ResourceRecord,
    old_all: Mapping[str, ResourceRecord],
    new_all: Mapping[str, ResourceRecord],
) -> str | None:
    """Why the engine replaces `a` → `b` for a provider change, or None.

    As pkg/resource/deploy/step_generator.go `providerChanged`: the same reference is no
    change; a provider aliased to the old one is no change; otherwise the new provider's
    DiffConfig compares the two providers' configuration (less `version`, FilterProviderConfig)
    and a difference replaces the resource. Bridged providers cannot be asked offline which
    keys DiffConfig would let pass, so any configuration difference counts: a resource moving
    to another endpoint, account or tenancy is deleted there and created anew, even when the
    region string is the same."""
    if not a.provider or not b.provider or a.provider == b.provider:
        return None
    old_urn, new_urn = _ref_urn(a.provider), _ref_urn(b.provider)
    if old_urn == new_urn:
        return None
    po, pn = old_all.get(old_urn), new_all.get(new_urn)
    if pn is not None and old_urn in _aliases(pn):
        return None
    old_name, new_name = _provider_name(a.provider), _provider_name(b.provider)
    if po is None or pn is None:
        differ = ["configuration (not in the plan)"]
    else:
        keys = sorted((set(po.inputs) | set(pn.inputs)) - _PROVIDER_INTERNAL)
        differ = [k for k in keys if not k.startswith("__") and po.inputs.get(k) != pn.inputs.get(k)]
    if not differ:
        return None  # e.g. a default provider's version bump: DiffConfig sees no change
    return (
        f"moves to provider `{new_name}` ({', '.join(f'`{k}`' for k in differ)} differ from `{old_name}`'s): "
        "the engine deletes it through the old provider and creates it anew through the new one; "
        "what it holds is not carried over"
    )


def _pair_renames(
    created: list[str],
    deleted: list[str],
    old: Mapping[str, ResourceRecord],
    new: Mapping[str, ResourceRecord],
) -> dict[str, str]:
    """A delete and a create of the same type and region with mostly equal inputs: one resource
    renamed (logical name or parent) without `aliases`. Greedy by similarity, deterministic."""
    # Only the same type in the same region can be the same resource: group first, and
    # flatten each resource's inputs once (a big refactor deletes and creates hundreds).
    groups: dict[tuple[str, str | None], tuple[list[str], list[str]]] = {}
    for d in deleted:
        groups.setdefault((old[d].type, old[d].region), ([], []))[0].append(d)
    for c in created:
        group = groups.get((new[c].type, new[c].region))
        if group is not None:
            group[1].append(c)
    candidates: list[tuple[float, str, str]] = []
    for gone, added in groups.values():
        if not added:
            continue
        flat_old = {d: dict(_leaves(old[d].inputs)) for d in gone}
        flat_new = {c: dict(_leaves(new[c].inputs)) for c in added}
        for d in gone:
            for c in added:
                score = _similarity(flat_old[d], flat_new[c])
                if score >= 0.6:
                    candidates.append((score, d, c))
    candidates.sort(key=lambda t: (-t[0], t[1], t[2]))
    out: dict[str, str] = {}
    used: set[str] = set()
    for _score, d, c in candidates:
        if d in used or c in out:
            continue
        out[c] = d
        used.add(d)
    return out


def _options(record: ResourceRecord) -> Mapping[str, Any]:
    return getattr(record, "options", None) or {}


def _under(path: str, patterns: Iterable[Any]) -> bool:
    """Is `path` at or below one of Pulumi's property paths (`*`, `tags`, `tags["a"]`, `rules[0]`)?"""
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        if pattern == "*" or path == pattern or path.startswith((f"{pattern}.", f"{pattern}[")):
            return True
    return False


def _compare_one(
    a: ResourceRecord,
    b: ResourceRecord,
    table: ReplaceTable,
    *,
    renamed: bool,
    known: frozenset[str] = frozenset(),
    providers: tuple[Mapping[str, ResourceRecord], Mapping[str, ResourceRecord]] = ({}, {}),
) -> ResourceChange | None:
    options = _options(b)
    # Like the engine: ignoreChanges keeps the old value, so an ignored difference is no change.
    ignored = options.get("ignoreChanges") or []
    names = secret_output_names(a) | secret_output_names(b)
    changed = [p for p in diff_values(a.inputs, b.inputs) if not _under(p.path, ignored)]
    props = [_masked_change(p, names, known) for p in changed]
    reasons: list[str] = []
    for p in props:
        p.replaces = table.forces_replacement(b.type, p.path)
        if not p.replaces and _under(p.path, options.get("replaceOnChanges") or []):
            p.replaces = "the resource's replaceOnChanges option lists it"
        p.caution = None if p.replaces else table.caution(b.type, p.path)
        if p.replaces:
            reasons.append(f"`{top_property(p.path)}` changed")
    reasons = sorted(set(reasons))
    if renamed:
        reasons.insert(0, f"URN changed (`{a.name}` → `{b.name}`) without `aliases`")
    if a.region != b.region:
        reasons.append(f"region {a.region or 'unknown'} → {b.region or 'unknown'}")
    if a.type != b.type:
        reasons.append(f"type {a.type} → {b.type}")
    moved = _provider_move(a, b, *providers)
    if moved and a.region == b.region:  # a region change already says it
        reasons.append(moved)
    if not props and not reasons and a.protect == b.protect:
        return None
    action: Action = "replace" if reasons else "update"
    if action == "replace" and options.get("deleteBeforeReplace"):
        reasons.append("deleteBeforeReplace: the old one is deleted before the new one exists")
    return ResourceChange(
        action=action,
        urn=b.urn,
        type=b.type,
        name=b.name,
        region=b.region,
        old_urn=a.urn if a.urn != b.urn else None,
        old_region=a.region,
        protect=a.protect or b.protect,
        data_bearing=table.data_bearing(b.type),
        reasons=reasons,
        properties=props,
        location=b.location,
        unprotected=a.protect and not b.protect,
    )


def _judge(
    ch: ResourceChange,
    table: ReplaceTable,
    old: Mapping[str, ResourceRecord],
    old_all: Mapping[str, ResourceRecord],
    sites: Mapping[str, str],
    today: date,
) -> None:
    remedy = table.remedy(ch.type)
    ch.remedy = remedy[0] if remedy else None
    if ch.action not in ("delete", "replace"):
        return
    base_record = old.get(ch.old_urn or ch.urn)
    if base_record is not None:
        sunset = _sunset_of(base_record, sites, old_all)
        if sunset:
            ch.sunset = _sunset_text(sunset, today)
    if ch.action == "delete" and base_record is not None and _options(base_record).get("retainOnDelete"):
        # Only dropped from the stack: the cloud resource and its data stay (retainOnDelete).
        ch.reasons.append("retainOnDelete: removed from the stack only, the resource and its data stay")
        return
    if ch.protect:
        ch.blocking.append("protected (`pulumi up` refuses until it is unprotected)")
    if ch.data_bearing:
        rule = table.rule(ch.type)
        ch.blocking.append(f"data-bearing: {rule.title if rule else ch.type}")


def _finding_key(f: Finding, urn_map: Mapping[str, str] | None = None) -> tuple[str, str, str]:
    urn = urn_map.get(f.urn, f.urn) if urn_map else f.urn
    return (f.source, f.policy, urn)


def _compare_findings(
    base: Sequence[Finding], head: Sequence[Finding], urn_map: Mapping[str, str]
) -> FindingDelta:
    before: dict[tuple[str, str, str], Finding] = {}
    for f in base:
        before.setdefault(_finding_key(f, urn_map), f)
    after: dict[tuple[str, str, str], Finding] = {}
    for f in head:
        after.setdefault(_finding_key(f), f)
    delta = FindingDelta()
    for key in sorted(after):
        h = after[key]
        b = before.get(key)
        if b is None:
            delta.introduced.append(h)
        elif (b.enforcement, b.suppressed is None, b.waiver) != (
            h.enforcement,
            h.suppressed is None,
            h.waiver,
        ):
            delta.changed.append((b, h))
        elif h.blocking:
            delta.still_blocking += 1
    delta.resolved = [before[k] for k in sorted(before) if k not in after]
    return delta


def _place(r: ResourceRecord) -> str:
    region = r.region or "unknown region"
    if r.type.startswith("oci:") or r.type.startswith(f"{PROVIDER_PREFIX}oci"):
        return region
    name = _provider_name(r.provider)
    return f"{region} · {name}" if name else region


def _edges(resources: Mapping[str, ResourceRecord]) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for r in resources.values():
        for path, value in _leaves(r.inputs):
            if _leaf_key(path) in CROSS_REGION_FIELDS:
                target = json.loads(value)
                if isinstance(target, str) and target and target != r.region:
                    out.add((_place(r), target, r.type.rsplit(":", 1)[-1]))
    return out


def _compare_regions(
    old: Mapping[str, ResourceRecord], new: Mapping[str, ResourceRecord], changes: Sequence[ResourceChange]
) -> RegionDelta:
    places: dict[str, Place] = {}

    def get(key: str) -> Place:
        return places.setdefault(key, Place(key))

    for r in old.values():
        if not r.type.startswith(PROVIDER_PREFIX):
            get(_place(r)).base += 1
    for r in new.values():
        if not r.type.startswith(PROVIDER_PREFIX):
            get(_place(r)).head += 1
    for ch in changes:
        if ch.type.startswith(PROVIDER_PREFIX):
            continue
        rec = new.get(ch.urn) if ch.action != "delete" else old.get(ch.urn)
        if rec is not None:
            get(_place(rec)).actions[ch.action] += 1
    before, after = _edges(old), _edges(new)
    for src, dst, _label in before | after:
        get(src)
        if dst not in places and not any(p.startswith(f"{dst} · ") for p in places):
            get(dst)
    return RegionDelta(
        places=sorted(places.values(), key=lambda p: (p.key == "unknown region", p.key)),
        edges_added=sorted(after - before),
        edges_removed=sorted(before - after),
        edges_kept=sorted(before & after),
    )


# --------------------------------------------------------------------------- Markdown


def _cell(text: str) -> str:
    """Text safe inside a GFM table cell: no pipes, no newlines, no HTML."""
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def _code(text: str) -> str:
    """An inline code span (table-safe) for any text."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if ticks else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fence(body: str, lang: str = "") -> str:
    ticks = max((len(m) for m in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * max(3, ticks + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text) - limit + 1} more chars)"


def _show(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    if value in (SECRET, UNKNOWN):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _short(json.dumps(value, ensure_ascii=False, sort_keys=True), _MAX_VALUE_CHARS)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _resource_label(ch: ResourceChange) -> str:
    return f"{_code(ch.name)} {_code(ch.type.rsplit(':', 1)[-1])}"


def _property_lines(ch: ResourceChange) -> list[str]:
    lines: list[str] = []
    context = None
    for p in ch.properties[:_MAX_PROPERTY_LINES]:
        if p.context and p.context != context:
            lines.append(f"# {p.context}")
        context = p.context
        note = ""
        if p.replaces:
            note = f"   # forces replacement: {p.replaces}"
        elif p.caution:
            note = f"   # caution: {p.caution}"
        elif p.secret:
            note = "   # secret changed"
        if p.old is not MISSING:
            lines.append(f"- {p.path}: {_show(p.old)}")
        if p.new is not MISSING:
            lines.append(f"+ {p.path}: {_show(p.new)}{note}")
        elif note:
            lines[-1] += note
    left = len(ch.properties) - _MAX_PROPERTY_LINES
    if left > 0:
        lines.append(f"# … {left} more changed properties (see --format json)")
    return lines


def _details(ch: ResourceChange) -> str:
    tags: list[str] = [ch.action]
    if ch.region:
        tags.append(
            ch.region if not ch.old_region or ch.old_region == ch.region else f"{ch.old_region} → {ch.region}"
        )
    if ch.protect:
        tags.append("protected")
    if ch.data_bearing:
        tags.append("data-bearing")
    summary = (
        f"<b>{html.escape(ch.action)}</b> <code>{html.escape(ch.type)}</code> <b>{html.escape(ch.name)}</b>"
    )
    summary += " · " + html.escape(" · ".join(tags[1:])) if len(tags) > 1 else ""
    meta = [_code(ch.urn)]
    if ch.old_urn and ch.old_urn != ch.urn:
        meta.append(f"was {_code(ch.old_urn)}")
    if ch.location:
        meta.append(f"declared at {_code(ch.location)}")
    body = [f"<details><summary>{summary}</summary>", "", " · ".join(meta), ""]
    if ch.reasons:
        body += [f"Replaced because: {'; '.join(ch.reasons)}.", ""]
    lines = _property_lines(ch)
    if lines:
        body += [_fence("\n".join(lines), "diff"), ""]
    body.append("</details>")
    return "\n".join(body) + "\n"


class _Writer:
    """Markdown under a hard size limit; every item that does not fit is counted by kind."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.left_out: Counter[str] = Counter()
        self.reserve = 700  # the truncation note and closing lines always fit

    def fits(self, text: str) -> bool:
        return self.size + len(text) + self.reserve <= self.limit

    def add(self, text: str, what: str | None = None) -> bool:
        if not self.fits(text):
            if what:
                self.left_out[what] += 1
            return False
        self.parts.append(text)
        self.size += len(text)
        return True

    def add_all(self, header: str, items: Sequence[str], what: str, footer: str = "") -> None:
        """A header (e.g. a table head) and as many items as fit; nothing when no item fits."""
        if not items:
            return
        if not self.fits(header + items[0] + footer):
            self.left_out[what] += len(items)
            return
        self.add(header)
        for i, item in enumerate(items):
            if not self.fits(item + footer):
                self.left_out[what] += len(items) - i
                break
            self.add(item)
        self.add(footer)

    def text(self, hint: str) -> str:
        parts = list(self.parts)
        if self.left_out:
            what = ", ".join(f"{n} {kind}" for kind, n in sorted(self.left_out.items()))
            parts.append(
                f"\n> [!NOTE]\n> **Truncated** to stay under {self.limit:,} characters: "
                f"left out {what}. {hint}\n"
            )
        out = "".join(parts)
        if len(out) >= self.limit:  # cannot happen with the reserve; never post an oversized comment
            cut = out[: self.limit - 200]
            out = cut[: cut.rfind("\n")] + f"\n\n(cut: {len(out) - len(cut)} more characters)\n"
        return out


def _finding_row(f: Finding, mark: str = "") -> str:
    enforcement = f"**{f.enforcement}**" if f.blocking else f.enforcement
    if f.waiver:
        enforcement += f" (waiver {_code(f.waiver)})"
    if f.suppressed:
        enforcement += " (suppressed)"
    return (
        f"| {mark}{enforcement} | {f.severity} | {_code(f.policy)} "
        f"| {_code(f.name)} {_code(f.type.rsplit(':', 1)[-1])} "
        f"| {_cell(f.region or 'unknown')} | {_cell(_short(f.message, _MAX_MESSAGE_CHARS))} |\n"
    )


_FINDING_HEAD = (
    "\n| Enforcement | Severity | Policy | Resource | Region | Message |\n|---|---|---|---|---|---|\n"
)


def _mermaid_id(i: int) -> str:
    return f"p{i}"


def _mermaid_label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 ._:/()+~·−→±-]", "", text)


def residency_map(regions: RegionDelta) -> str:
    """The residency map's change as a Mermaid flowchart: places (regions, legacy sites) and the
    cross-region links between them; added green, removed red and dashed, changed amber."""
    ids = {p.key: _mermaid_id(i) for i, p in enumerate(regions.places)}
    lines = ["flowchart LR"]
    for p in regions.places:
        a = p.actions
        if p.base == 0 and p.head > 0:
            cls, what = "added", f"new · {p.head} resources"
        elif p.head == 0 and p.base > 0:
            cls, what = "removed", f"removed · {p.base} resources"
        elif a:
            cls = "changed"
            what = f"{p.base} → {p.head} resources · " + " ".join(
                f"{sym}{a[k]}"
                for k, sym in (("create", "+"), ("update", "~"), ("replace", "±"), ("delete", "−"))
                if a[k]
            )
        else:
            cls, what = "same", f"{p.head} resources" if p.head else "referenced"
        lines.append(f'  {ids[p.key]}["{_mermaid_label(p.key)}<br/>{_mermaid_label(what)}"]:::{cls}')
    link = 0
    styles: list[str] = []

    def target(dst: str) -> str:
        return ids.get(dst) or next(
            (ids[k] for k in ids if k.startswith(f"{dst} · ")), ids.get(dst, "unknown")
        )

    for src, dst, label in regions.edges_kept:
        lines.append(f'  {ids[src]} -->|"{_mermaid_label(label)}"| {target(dst)}')
        link += 1
    for src, dst, label in regions.edges_added:
        lines.append(f'  {ids[src]} ==>|"+ {_mermaid_label(label)}"| {target(dst)}')
        styles.append(f"  linkStyle {link} stroke:#1a7f37,stroke-width:3px")
        link += 1
    for src, dst, label in regions.edges_removed:
        lines.append(f'  {ids[src]} -.->|"− {_mermaid_label(label)}"| {target(dst)}')
        styles.append(f"  linkStyle {link} stroke:#cf222e")
        link += 1
    # What changed in residency terms: one node per subject (a site, a waiver, an approved
    # region), tied with a plain line to the place it concerns when the map has it.
    subjects: dict[str, list[ResidencyChange]] = {}
    for change in regions.residency:
        subjects.setdefault(change.subject, []).append(change)
    for i, (subject, found) in enumerate(subjects.items()):
        kinds = {c.kind for c in found}
        cls = "added" if kinds == {"added"} else "removed" if kinds == {"removed"} else "changed"
        body = "<br/>".join(_mermaid_label(c.what) for c in found)
        lines.append(f'  c{i}["{_mermaid_label(subject)}<br/>{body}"]:::{cls}')
        name = subject.split(" ")[-1]
        near = next(
            (ids[k] for k in ids if k == name or k.endswith(f" · {name}") or f" · {name}-" in k), None
        )
        if near is not None:
            lines.append(f"  c{i} --- {near}")
            link += 1
    lines += styles
    lines += [
        "  classDef added fill:#dafbe1,stroke:#1a7f37,color:#0d1117",
        "  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 4,color:#0d1117",
        "  classDef changed fill:#fff8c5,stroke:#9a6700,color:#0d1117",
        "  classDef same fill:#f6f8fa,stroke:#8c959f,color:#0d1117",
    ]
    return "\n".join(lines)


def render_markdown(
    result: DiffResult, *, limit: int = MAX_COMMENT_CHARS, command: str = "preflight diff"
) -> str:
    """The PR comment. Blocking first, then summary, findings, map, and per-resource diffs."""
    w = _Writer(limit)
    counts = result.counts
    w.add(f"{MARKER} stack={_mermaid_label(result.stack)} -->\n")
    w.add(f"### preflight diff · stack {_code(result.stack)}\n\n")
    w.add(f"{_cell(result.base_label)} → {_cell(result.head_label)}\n\n")
    if result.judged:
        w.add(f"{result.judged}\n\n")

    blocking = result.blocking_changes
    introduced_blocking = result.findings.introduced_blocking
    if result.blocked:
        parts = []
        if blocking:
            parts.append(
                f"{_plural(len(blocking), 'change')} "
                f"{'deletes or replaces a' if len(blocking) == 1 else 'delete or replace'} "
                "protected or data-bearing resource" + ("" if len(blocking) == 1 else "s")
            )
        if introduced_blocking:
            parts.append(f"{_plural(len(introduced_blocking), 'blocking policy finding')} introduced")
        w.add(
            f"> [!CAUTION]\n> **BLOCKING: {'; '.join(parts)}.** The merge is blocked until this is "
            "resolved or deliberately overridden (see docs/replacements.md).\n\n"
        )
        rows = []
        for ch in blocking:
            why = "; ".join(ch.blocking + ch.reasons)
            if ch.sunset:
                why += f"; legacy site sunset **{ch.sunset}**"
            remedy = (
                f"[`{ch.remedy}`](docs/replacements.md#{ch.remedy})"
                if ch.remedy
                else "see docs/replacements.md"
            )
            rows.append(
                f"| **{ch.action}** | {_resource_label(ch)} | {_cell(ch.region or 'unknown')} "
                f"| {_cell(why)} | {remedy} |\n"
            )
        w.add_all(
            "| Change | Resource | Region | Why it blocks | What to do |\n|---|---|---|---|---|\n",
            rows,
            "blocking changes",
            "\n",
        )
        if introduced_blocking:
            w.add("**Blocking findings introduced by this change:**\n")
            w.add_all(
                _FINDING_HEAD, [_finding_row(f) for f in introduced_blocking], "blocking findings", "\n"
            )

    w.add("#### Summary\n\n| create | update | replace | delete | unchanged |\n|---:|---:|---:|---:|---:|\n")
    w.add(
        " ".join(["|", *(f"{counts[k]} |" for k in ("create", "update", "replace", "delete", "unchanged"))])
        + "\n\n"
    )
    fd = result.findings
    w.add(
        f"Policy findings: **{len(fd.introduced)} introduced** ({len(introduced_blocking)} blocking), "
        f"**{len(fd.resolved)} resolved**, {len(fd.changed)} changed enforcement"
        + (
            f"; {fd.still_blocking} blocking on the base already (reported by `preflight gate`)"
            if fd.still_blocking
            else ""
        )
        + ".\n\n"
    )
    if result.policies_disabled:
        from preflight.report import disabled_line

        line = disabled_line(result.policies_disabled, result.policies_total)
        newly = sorted(set(result.policies_disabled) - set(result.base_policies_disabled))
        if newly:
            line += f" ({len(newly)} newly disabled by this change)"
        w.add(f"> [!WARNING]\n> **{_cell(line)}.** Their findings are not reported on either side.\n\n")
    for note in result.notes:
        w.add(f"> {note}\n\n", "notes")

    attention = []
    for ch in result.changes:
        if ch.unprotected:
            attention.append(f"- {_resource_label(ch)}: `protect` removed — the next change can delete it.\n")
        for p in ch.properties:
            if p.caution:
                attention.append(f"- {_resource_label(ch)} {_code(p.path)}: {_cell(p.caution)}\n")
    if attention:
        w.add("#### Needs attention (in place, but handle with care)\n\n")
        w.add_all("", attention, "attention items", "\n")

    if fd.introduced or fd.resolved or fd.changed:
        w.add("#### Policy findings\n")
        if fd.introduced:
            w.add_all(
                "\n**Introduced**\n" + _FINDING_HEAD,
                [_finding_row(f) for f in fd.introduced],
                "introduced findings",
            )
        if fd.resolved:
            w.add_all(
                "\n**Resolved**\n" + _FINDING_HEAD,
                [_finding_row(f) for f in fd.resolved],
                "resolved findings",
            )
        if fd.changed:
            rows = [_finding_row(h, f"{b.enforcement} → ") for b, h in fd.changed]
            w.add_all("\n**Enforcement changed**\n" + _FINDING_HEAD, rows, "changed findings")
        w.add("\n")

    regions = result.regions
    if regions.places or regions.residency:
        w.add(
            "#### Residency map change\n\n" + _fence(residency_map(regions), "mermaid") + "\n\n",
            "residency map",
        )
        rows = []
        for place in regions.places:
            acts = ", ".join(f"{k} {v}" for k, v in sorted(place.actions.items())) or "—"
            rows.append(f"| {_cell(place.key)} | {place.base} | {place.head} | {acts} |\n")
        w.add_all("| Place | Before | After | Changes |\n|---|---:|---:|---|\n", rows, "map rows", "\n")
        edges = [f"- added: {_cell(s)} → {_cell(d)} ({_cell(lbl)})\n" for s, d, lbl in regions.edges_added]
        edges += [
            f"- removed: {_cell(s)} → {_cell(d)} ({_cell(lbl)})\n" for s, d, lbl in regions.edges_removed
        ]
        w.add_all("Cross-region links changed:\n\n", edges, "link changes", "\n")
    if regions.residency:
        rows = [f"- **{_cell(c.subject)}**: {c.kind}, {_cell(c.what)}\n" for c in regions.residency]
        w.add_all(
            "Residency changes (sites, waivers, approved regions):\n\n", rows, "residency changes", "\n"
        )

    detailed = [c for c in result.changes if c.action in ("replace", "update")]
    if detailed:
        w.add(f"#### Changed resources ({len(detailed)})\n\n")
        for ch in detailed:
            w.add(_details(ch), "resource diffs")
        w.add("\n")
    for action, title in (("delete", "Deleted"), ("create", "Created")):
        group = [c for c in result.changes if c.action == action]
        if not group:
            continue
        rows = []
        for ch in group:
            extra = []
            if ch.protect:
                extra.append("protected")
            if ch.data_bearing:
                extra.append("data-bearing")
            if ch.sunset:
                extra.append(f"sunset {ch.sunset}")
            rows.append(
                f"| {_code(ch.name)} | {_code(ch.type)} | {_cell(ch.region or 'unknown')} "
                f"| {_cell(', '.join(extra))} |\n"
            )
        w.add_all(
            f"<details><summary>{title} resources ({len(group)})</summary>\n\n"
            "| Name | Type | Region | |\n|---|---|---|---|\n",
            rows,
            f"{action}d resources",
            "\n</details>\n\n",
        )
    return w.text(f"Run `{command} --format json` for everything.")


def render_json(result: DiffResult) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=False, default=str) + "\n"


def summary_line(result: DiffResult) -> str:
    c = result.counts
    line = (
        f"preflight diff ({result.stack}): {c['create']} create, {c['update']} update, "
        f"{c['replace']} replace, "
        f"{c['delete']} delete; findings +{len(result.findings.introduced)} -{len(result.findings.resolved)}"
    )
    if result.policies_disabled:
        line += f"; {len(result.policies_disabled)} of {result.policies_total} policies disabled"
    if result.blocked:
        line += (
            f"; BLOCKING: {len(result.blocking_changes)} change(s), "
            f"{len(result.findings.introduced_blocking)} finding(s)"
        )
    return line


# --------------------------------------------------------------------------- git


def _git(args: Sequence[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BadInput("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise InternalFailure(f"git {args[0]}: {message}")
    return proc


def _repo_root(project_dir: Path) -> Path:
    proc = _git(["rev-parse", "--show-toplevel"], project_dir, check=False)
    if proc.returncode != 0:
        raise BadInput(f"{project_dir}: not inside a git repository; preflight diff compares git revisions")
    return Path(proc.stdout.strip()).resolve()


def _resolve_ref(root: Path, ref: str) -> str:
    if not ref or ref.startswith("-") or any(c in ref for c in "\n\0"):
        raise BadInput(f"--base: {ref!r} is not a git revision")
    proc = _git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root, check=False
    )
    if proc.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", proc.stdout.strip()):
        raise BadInput(
            f"--base: {ref!r} is not a commit in {root} (fetch it first, e.g. git fetch origin main)"
        )
    return proc.stdout.strip()


def _head_label(root: Path, rel: Path) -> str:
    head = _git(["rev-parse", "--short", "HEAD"], root, check=False).stdout.strip()
    dirty = _git(
        ["status", "--porcelain", "--untracked-files=normal", "--", str(rel)], root, check=False
    ).stdout.strip()
    label = f"working tree (HEAD {_code(head)}" if head else "working tree (no commit yet"
    return label + (", with uncommitted changes)" if dirty else ")")


@contextlib.contextmanager
def base_worktree(root: Path, sha: str) -> Iterator[Path]:
    """The base commit checked out in a temporary worktree; removed again whatever happens.

    `git worktree add` writes only under `.git/worktrees/<name>`: the user's files and index stay
    as they are. A cancel (SIGTERM/SIGINT, `run`'s preflight.processes.cancellable) unwinds through
    here, so the cleanup runs; a SIGKILLed diff's worktree is pruned by the next one.
    """
    prune_stale_worktrees(root)
    tmp = Path(tempfile.mkdtemp(prefix=_WORKTREE_PREFIX))
    path = tmp / "base"
    try:
        # Locked with our pid as the reason: `git worktree prune` leaves it alone while we run,
        # and a later diff can tell a worktree whose owner was SIGKILLed from a live one.
        reason = f"{_LOCK_REASON} {os.getpid()}"
        add = ["worktree", "add", "--detach", "--quiet", "--lock", "--reason", reason, str(path), sha]
        proc = _git(add, root, check=False)
        if proc.returncode != 0:
            message = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            raise InternalFailure(f"git worktree add: {message}")
        yield path
    finally:
        _remove_worktree(root, path)
        shutil.rmtree(tmp, ignore_errors=True)


_WORKTREE_PREFIX = "preflight-diff-"
_LOCK_REASON = "preflight diff pid"


def _remove_worktree(root: Path, path: Path) -> None:
    _git(["worktree", "unlock", str(path)], root, check=False)
    _git(["worktree", "remove", "--force", str(path)], root, check=False)
    _git(["worktree", "prune"], root, check=False)


def prune_stale_worktrees(root: Path) -> list[Path]:
    """Remove the base worktrees of earlier diffs that died without cleaning up (SIGKILL, a
    lost CI runner): a worktree this module locked with the pid of a process that is gone.
    A live diff's worktree (its pid still running) and anything not ours are left alone."""
    listing = _git(["worktree", "list", "--porcelain"], root, check=False).stdout
    removed: list[Path] = []
    for block in listing.split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in block.splitlines() if line)
        path, locked = fields.get("worktree"), fields.get("locked", "")
        if not path or not locked.startswith(_LOCK_REASON + " "):
            continue
        try:
            pid = int(locked.rsplit(" ", 1)[1])
        except ValueError:
            continue
        if _process_alive(pid):
            continue
        _remove_worktree(root, Path(path))
        parent = Path(path).parent
        if parent.name.startswith(_WORKTREE_PREFIX):
            shutil.rmtree(parent, ignore_errors=True)
        removed.append(Path(path))
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


# --------------------------------------------------------------------------- running both sides


@dataclass
class Options:
    base: str
    project_dir: Path
    stack: str | None = None
    config_file: Path | None = None
    policy_pack: Path | None = None
    policy_config: Path | None = None
    fmt: str = "markdown"
    out: Path | None = None
    no_checkov: bool = False
    timeout: float = 120.0  # the policy pack: to start, and to answer one call (as plan/gate)
    synth_timeout: float = 900.0  # one synthesis in its own interpreter
    checkov_timeout: float = 600.0
    max_chars: int = MAX_COMMENT_CHARS
    stack_outputs: list[str] = field(default_factory=list)  # as the gate: both sides see them
    lookups: list[str] = field(default_factory=list)
    cache: bool = True  # the base side from preflight/diff_cache.py when nothing that shapes it changed


def _default_stack(project_dir: Path) -> str:
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
    if len(stacks) == 1:
        return stacks[0]
    raise BadInput(f"--stack: required ({', '.join(stacks) or 'no stack files'} in {project_dir})")


def _synthesize(
    project_dir: Path,
    stack: str,
    config_file: Path | None,
    opts: Options,
    on_resource: Callable[[ResourceRecord], None] | None = None,
) -> SynthResult:
    from preflight.synth import synthesize_isolated

    return synthesize_isolated(
        project_dir,
        stack,
        config_file,
        timeout=opts.synth_timeout,
        on_resource=on_resource,
        stack_outputs=opts.stack_outputs,
        lookup_files=opts.lookups,
    )


@dataclass
class _Program:
    """One side's project as synth and the pack see it."""

    dir: Path
    name: str
    stack: str
    config_file: Path | None
    config: Mapping[str, Any]  # structured stack config (sunsets)
    wire: Mapping[str, str]  # the config as text, as the engine hands it to programs and packs


def _program(project_dir: Path, stack: str, config_file: Path | None) -> _Program:
    from preflight.project import load_project, load_stack_config

    project = load_project(project_dir)
    config = load_stack_config(project, stack, config_file)
    register_secret_values(config.secret_values)  # decrypted secure: values never shown
    return _Program(project.dir, project.name, stack, config_file, config.values, config.wire())


def _judged_side(
    directory: Path, stack: str, cfg: Path | None, program: _Program, opts: Options
) -> tuple[list[ResourceRecord], list[Finding], list[dict[str, Any]]]:
    """One side synthesized with the pack analysing each record as it registers (the gate's
    streaming, so the analysis runs beside the program on the other core), then AnalyzeStack and
    checkov side by side: its records, its findings, and the pack's policies as this side's
    policy config sets them."""
    from preflight.analyze import AnalysisSession

    config = _policy_config(program, opts)
    session = AnalysisSession(
        _pack_dir(opts),
        config=config,
        timeout=opts.timeout,
        stack=program.stack,
        project=program.name,
        stack_config=program.wire,
    )
    with session, ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflight-diff-checkov") as pool:
        synth = _synthesize(directory, stack, cfg, opts, on_resource=session.submit)
        resources = synth.resources
        checkov = pool.submit(_checkov, resources, opts) if not opts.no_checkov else None
        result = session.finish(resources, synth.stack_urn)
        found = list(result.findings) + offline.findings(resources, config)
        found += checkov.result() if checkov else []
    return resources, found, list(result.policies)


def _checkov(resources: list[ResourceRecord], opts: Options) -> list[Finding]:
    """checkov on one side's Terraform-plan JSON (preflight/checkov.py; same suppressions both sides)."""
    from preflight.checkov import run_checkov

    return list(run_checkov(resources, timeout=opts.checkov_timeout))


def _pack_dir(opts: Options) -> Path:
    return (opts.policy_pack or opts.project_dir / "policies").resolve()


# The project's own generator of the pack's config (waivers, approved regions) from a stack file.
POLICY_CONFIG_MODULE = "stacks.policy_config"


def _policy_config(program: _Program, opts: Options) -> dict[str, Any] | None:
    """--policy-config for both sides when given; else each side's own, made by that side's
    `python -m stacks.policy_config` (waivers live in the stack file, so a waiver added by the
    change shows as a changed finding); else none (the pack's defaults)."""
    from preflight.analyze import load_policy_config

    if opts.policy_config is not None:
        return load_policy_config(opts.policy_config)
    generator = program.dir / (POLICY_CONFIG_MODULE.replace(".", "/") + ".py")
    if not generator.is_file():
        return None
    with tempfile.TemporaryDirectory(prefix="preflight-diff-config-") as tmp:
        out = Path(tmp) / "policy-config.json"
        cmd = [sys.executable, "-m", POLICY_CONFIG_MODULE, "--stack", program.stack, "--out", str(out)]
        # Entries for the policies of the pack that will run (the working tree's), from this side's settings.
        cmd += ["--project-dir", str(program.dir), "--policy-pack", str(_pack_dir(opts))]
        if program.config_file is not None:
            cmd += ["--config-file", str(program.config_file)]
        env = dict(os.environ)
        # That side's own modules first: the base's generator reads the base's settings model.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(program.dir), env.get("PYTHONPATH", "")) if p)
        try:
            proc = subprocess.run(
                cmd,
                cwd=program.dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=opts.synth_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InternalFailure(f"{POLICY_CONFIG_MODULE} ({program.dir.name}) did not finish") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
            message = lines[-1] if lines else f"exit code {proc.returncode}"
            error = BadInput if proc.returncode == 2 else InternalFailure
            raise error(f"{POLICY_CONFIG_MODULE} for stack {program.stack}: {message}")
        return load_policy_config(out)


def run_diff(opts: Options) -> DiffResult:
    """Synthesize and analyze base and head, and compare them. Raises BadInput / InternalFailure."""
    from preflight.project import load_project, stack_file

    project = load_project(opts.project_dir)
    stack = opts.stack or _default_stack(project.dir)
    root = _repo_root(project.dir)
    sha = _resolve_ref(root, opts.base)
    rel = project.dir.relative_to(root)
    config_file = opts.config_file.resolve() if opts.config_file else None
    if config_file is not None and not config_file.is_file():
        raise BadInput(f"--config-file: {config_file}: no such file")
    head_label = _head_label(root, rel)
    base_label = f"base {_code(opts.base)} ({_code(sha[:10])})"

    with base_worktree(root, sha) as tree:
        base_dir = tree / rel
        base_config = config_file
        if config_file is not None and _inside(config_file, root):
            moved = tree / config_file.relative_to(root)
            base_config = moved if moved.is_file() else config_file
        base_exists = (base_dir / "Pulumi.yaml").is_file() and (
            base_config is not None or stack_file(load_project(base_dir), stack).is_file()
        )

        def side(directory: Path, cfg: Path | None, label: str, key: str | None = None) -> Side:
            program = _program(directory, stack, cfg)  # also registers decrypted secrets for masking
            if key is not None:
                cached = cache.get(key)
                if isinstance(cached, Side):
                    cached.label = label
                    hits.append(label)
                    return cached
            built = _build_side(directory, cfg, label, program)
            if key is not None:
                cache.put(key, built)
            return built

        def _build_side(directory: Path, cfg: Path | None, label: str, program: _Program) -> Side:
            resources, findings, policies = _judged_side(directory, stack, cfg, program, opts)
            known = known_secrets(resources)
            shown = [mask_finding(f, known) for f in findings]
            return Side(
                resources,
                shown,
                program.config,
                label,
                policies=policies,
                judged_by=_judged_by(program, opts),
            )

        cache = diff_cache.Cache()
        hits: list[str] = []
        base_key = (
            _base_key(root, sha, rel, base_dir, stack, base_config, opts)
            if opts.cache and base_exists
            else None
        )
        # Two fresh interpreters side by side: the wall time of one synthesis, not two.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="preflight-diff") as pool:
            head_future = pool.submit(side, project.dir, config_file, head_label)
            base_future = (
                pool.submit(side, base_dir, base_config, base_label, base_key) if base_exists else None
            )
            head = _side_result(head_future, "head", head_label, stack)
            base = (
                _side_result(base_future, "base", base_label, stack)
                if base_future
                else Side([], [], {}, base_label, exists=False)
            )
    result = compare(base, head, stack=stack)
    result.judged = _judged_note(base, head)
    result.notes += cache.notes
    if hits:
        result.notes.append(
            "The base was not synthesized again: its cached plan matches everything that shapes it "
            "(program tree, stack file, pack, options, SDK versions, preflight)."
        )
    result.cached = bool(hits)
    if opts.no_checkov:
        result.notes.append(
            "checkov was not run (--no-checkov): only the policy pack's findings are compared."
        )
    return result


@dataclass(frozen=True)
class SideRefused:
    """One side of the change could not be planned: its stack file, settings or program was
    refused. Carried on the error (`refused` attribute) so the comment still says so
    (render_refused); the error itself, and so the exit code, stays the cause's."""

    side: str
    label: str
    stack: str
    message: str
    exit_code: int


def _side_result(future: Any, side: str, label: str, stack: str) -> Side:
    try:
        return cast(Side, future.result())
    except PreflightError as exc:
        if getattr(exc, "refused", None) is None:
            exc.refused = SideRefused(side, label, stack, exc.message, exc.exit_code)  # type: ignore[attr-defined]
        raise


def _base_key(
    root: Path, sha: str, rel: Path, base_dir: Path, stack: str, config_file: Path | None, opts: Options
) -> str | None:
    """The cache key of the base side (preflight/diff_cache.py), or None when it cannot be made.

    The whole commit's tree, not only the project directory's: a program may import code from
    beside its project (`../lib`), and a change there must never find an old plan."""
    from preflight.engine import interpreter
    from preflight.project import load_project

    tree = _git(["rev-parse", f"{sha}^{{tree}}"], root, check=False)
    if tree.returncode != 0:
        return None
    # The interpreter the base's program runs with (its own virtualenv, if it declares one) and
    # that environment's packages: an upgrade there is another plan.
    python = interpreter.choose(load_project(base_dir)).python
    checkov = "off"
    if not opts.no_checkov:
        from preflight.checkov import find_checkov

        try:
            found = find_checkov()
            stat = found.stat()
            checkov = f"{found.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        except (PreflightError, OSError):
            return None  # checkov missing: the run fails anyway, never from the cache
    outputs = [spec.partition("=")[2] for spec in opts.stack_outputs]
    return diff_cache.make_key(
        {
            "tree": tree.stdout.strip(),
            "project": rel.as_posix(),
            "interpreter": diff_cache.interpreter_fingerprint(python),
            "stack": stack,
            "config_file": diff_cache.digest_files([config_file]) if config_file else "",
            "pack": diff_cache.digest_tree(_pack_dir(opts)),
            "policy_config": diff_cache.digest_files([opts.policy_config]) if opts.policy_config else "",
            "stack_outputs": [*sorted(opts.stack_outputs), diff_cache.digest_files(outputs)],
            "lookups": diff_cache.digest_files(opts.lookups),
            "checkov": checkov,
            "environment": diff_cache.environment(),
            "preflight": diff_cache.preflight_digest(),
            # Waivers expire and sunsets arrive: the date the findings hold for. The passphrase
            # decides what `secure:` values decrypt to (only its digest is ever kept: the key is one).
            "today": _today().isoformat(),
            "env_vars": sorted(
                (k, hashlib.sha256(v.encode()).hexdigest())
                for k, v in os.environ.items()
                if k in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")
            ),
        }
    )


def _judged_by(program: _Program, opts: Options) -> str:
    """Which policy config `_policy_config` gives this side, in words."""
    if opts.policy_config is not None:
        return f"one policy config for both sides, `{opts.policy_config}` (--policy-config)"
    if (program.dir / (POLICY_CONFIG_MODULE.replace(".", "/") + ".py")).is_file():
        return f"its own policy config, made from its stack settings (`python -m {POLICY_CONFIG_MODULE}`)"
    return "the pack's defaults (no --policy-config, no stacks/policy_config.py)"


def _judged_note(base: Side, head: Side) -> str:
    """How each side was judged: a finding 'resolved' under the head's settings applied to the base
    would be an artefact, so the comment says which config judged which side."""
    if not base.exists or base.judged_by == head.judged_by:
        how = head.judged_by
        if how.startswith("its own"):
            return (
                "Judged: each side with " + how + ", so a finding resolved here was resolved by the change."
            )
        return f"Judged: both sides with {how}."
    return f"Judged: the base with {base.judged_by}; the head with {head.judged_by}."


def render_refused(refused: SideRefused, fmt: str) -> str:
    """The comment for a change that could not be planned: blocking, naming what was refused."""
    message = mask_text(refused.message)
    meaning = {2: "bad input", 3: "internal failure"}.get(refused.exit_code, "error")
    if fmt == "json":
        doc = {
            "stack": refused.stack,
            "blocking": True,
            "refused": {
                "side": refused.side,
                "label": refused.label,
                "message": message,
                "exit_code": refused.exit_code,
            },
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    what = "this change (the head)" if refused.side == "head" else "the base"
    return (
        f"{MARKER} stack={_mermaid_label(refused.stack)} -->\n"
        f"### preflight diff · stack {_code(refused.stack)}\n\n"
        f"> [!CAUTION]\n> **BLOCKING: {what} could not be planned, so nothing in it was checked.** "
        f"{_cell(refused.label)} was refused:\n\n"
        f"{_fence(message)}\n"
        f"Exit code {refused.exit_code} ({meaning}). Fix what the line names (a file and key, or the "
        "program's file:line) and push again.\n"
    )


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- command line


def configure_parser(parser: argparse.ArgumentParser, *, shared: bool = True) -> None:
    """`diff`'s options. `shared=False` when the caller (preflight.cli) already added the shared ones."""
    parser.add_argument(
        "--base", required=True, metavar="REF", help="git revision to compare against (e.g. origin/main)"
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=MAX_COMMENT_CHARS,
        metavar="N",
        help=f"Markdown size limit (default {MAX_COMMENT_CHARS:,}; GitHub allows 65,536 per comment)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="synthesize the base again even when a cached plan of it matches (preflight/diff_cache.py)",
    )
    if not shared:
        return
    parser.add_argument("--project-dir", default=".", metavar="DIR", help="Pulumi project (default: .)")
    parser.add_argument("--stack", metavar="NAME", help="stack name: reads Pulumi.NAME.yaml")
    parser.add_argument(
        "--config-file", metavar="FILE", help="use FILE instead of the stack file (both sides)"
    )
    parser.add_argument("--policy-pack", metavar="DIR", help="policy pack (default: <project>/policies)")
    parser.add_argument("--policy-config", metavar="FILE", help="policy pack config JSON for both sides")
    parser.add_argument("--format", default="markdown", choices=("markdown", "json"), help="output format")
    parser.add_argument("--out", metavar="FILE", help="write the output here instead of stdout")
    parser.add_argument("--no-checkov", action="store_true", help="do not run checkov")
    parser.add_argument(
        "--timeout", type=float, default=120.0, metavar="SECONDS", help="the policy pack's time per call"
    )


def options_from_args(args: argparse.Namespace) -> Options:
    fmt = getattr(args, "format", None) or "markdown"
    if fmt not in ("markdown", "json"):
        raise BadInput(f"--format: diff writes markdown or json, not {fmt}")
    max_chars = int(getattr(args, "max_chars", MAX_COMMENT_CHARS) or MAX_COMMENT_CHARS)
    if not 2_000 <= max_chars <= 65_536:
        raise BadInput(f"--max-chars: {max_chars} is outside 2000..65536")

    def path(name: str) -> Path | None:
        value = getattr(args, name, None)
        return Path(value) if value else None

    return Options(
        base=str(args.base),
        project_dir=Path(getattr(args, "project_dir", None) or ".").resolve(),
        stack=getattr(args, "stack", None),
        config_file=path("config_file"),
        policy_pack=path("policy_pack"),
        policy_config=path("policy_config"),
        fmt=fmt,
        out=path("out"),
        no_checkov=bool(getattr(args, "no_checkov", False)),
        timeout=float(getattr(args, "timeout", None) or 120.0),
        checkov_timeout=float(getattr(args, "checkov_timeout", None) or 600.0),
        synth_timeout=float(getattr(args, "synth_timeout", None) or 900.0),
        max_chars=max_chars,
        stack_outputs=[str(s) for s in getattr(args, "stack_outputs", None) or []],
        lookups=[str(Path(f).resolve()) for f in getattr(args, "lookups", None) or []],
        cache=not getattr(args, "no_cache", False),
    )


def run(args: argparse.Namespace) -> int:
    """The `diff` subcommand: write the comment, return 0 or 1; raises PreflightError for 2 and 3.
    SIGTERM and SIGINT end every child of both sides (synthesis, packs, checkov) and raise
    preflight.processes.Cancelled (a KeyboardInterrupt) once the worktree is removed."""
    from preflight import processes

    opts = options_from_args(args)
    with processes.cancellable():
        try:
            result = run_diff(opts)
        except PreflightError as exc:
            refused = getattr(exc, "refused", None)
            if isinstance(refused, SideRefused):
                _emit(render_refused(refused, opts.fmt), opts)
                print(
                    f"preflight diff ({refused.stack}): BLOCKING: the {refused.side} could not be planned",
                    file=sys.stderr,
                )
            raise
        finally:
            processes.end_all()
    command = f"preflight diff --base {opts.base}" + (f" --stack {result.stack}" if result.stack else "")
    text = (
        render_json(result)
        if opts.fmt == "json"
        else render_markdown(result, limit=opts.max_chars, command=command)
    )
    _emit(text, opts)
    print(summary_line(result), file=sys.stderr)
    return result.exit_code


def _emit(text: str, opts: Options) -> None:
    if opts.out is not None:
        from preflight.outputs import write_text_atomic

        write_text_atomic(opts.out, text, "--out")  # a temp file renamed over it, as plan/gate do
    else:
        sys.stdout.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="preflight diff", description=__doc__.split("\n", 1)[0])
    configure_parser(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except PreflightError as exc:
        print(f"preflight: error: {exc.message}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
