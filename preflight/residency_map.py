"""The residency map: where US data lives and what crosses a border, as a Mermaid flowchart.

Drawn for a reviewer who has one screen (issue 18): each place is one node, the OCI regions side
by side (`flowchart LR`), the legacy sites beside them. What sits in a place is folded into its
node (buckets by name, vaults and keys, log groups, other data by kind); what crosses from one
place to another is one labelled edge per pair of places and kind of crossing (replicated
buckets, vault replicas, keys held in another region), so twenty replication policies between
four regions are four edges a reader can follow, not twenty lines through one channel. Names
are cut to fit a label ("+N more"); an edge is never cut, above all not a cross-border one.

A place outside the approved US set is unmistakable: its node says so in words ("OUTSIDE THE
US", "NOT APPROVED", "UNKNOWN REGION") and is drawn red with a thick border; legacy sites carry
their country, mode, sunset and waiver.

The text is plain Mermaid 11 syntax (tests/preflight/test_residency_map_browser.py renders it in
a headless Chromium with mermaid.js and measures it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from preflight.catalogue import region_facts
from preflight.inventory import Inventory
from preflight.synth import SynthResult

MAX_NAMES = 4  # names listed in one line of a label before "+N more"
# Mermaid classes: the same palette in the plan's map and the diff's.
CLASS_DEFS = (
    "  classDef approved fill:#eef6ff,stroke:#0969da,color:#0d1117",
    "  classDef outside fill:#ffebe9,stroke:#cf222e,stroke-width:4px,color:#0d1117",
    "  classDef legacy fill:#fff8c5,stroke:#9a6700,color:#0d1117",
)
# Mermaid's front matter (GitHub renders it): node text wraps at 330 px instead of 200, so a
# region's node is a short wide block, not a tall column of one-word lines.
FRONT_MATTER = ("---", "config:", "  flowchart:", "    wrappingWidth: 330", "---")
_OUTSIDE_STYLE = "stroke:#cf222e,stroke-width:3px,color:#cf222e"


_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", ";": "#59;", "\n": " "}


def label(text: str) -> str:
    """Text safe inside a quoted Mermaid label: quotes, angle brackets, `#` and `;` as Mermaid's
    entity codes (each character once: an entity's own `#` and `;` are not escaped again)."""
    return "".join(_ENTITIES.get(c, c) for c in text)


def names(items: Sequence[str], limit: int = MAX_NAMES) -> str:
    """`a, b, c +2 more`: the first `limit` names in sorted order (a map never depends on the
    order resources were registered in), the count of the rest."""
    unique = sorted(set(items))
    shown = ", ".join(unique[:limit])
    rest = len(unique) - limit
    return f"{shown} +{rest} more" if rest > 0 else shown


def shortened(items: Sequence[str]) -> tuple[str, list[str]]:
    """(common prefix, the names without it): `usdr-prod-iad-`, [`profiles`, `media`] of
    `usdr-prod-iad-profiles`, `usdr-prod-iad-media`; the prefix ends at a `-`, `_` or `.` and is
    empty when the names share none (or there is only one)."""
    unique = sorted(set(items))
    if len(unique) < 2:
        return "", unique
    prefix = unique[0]
    for item in unique[1:]:
        while not item.startswith(prefix):
            prefix = prefix[:-1]
    cut = max(prefix.rfind(c) for c in "-_.") + 1
    prefix = prefix[:cut]
    if len(prefix) < 4 or any(len(item) == len(prefix) for item in unique):
        return "", unique
    return prefix, [item[len(prefix) :] for item in unique]


def listing(noun: str, items: Sequence[str]) -> str:
    """`8 buckets usdr-prod-iad-*: profiles, media, … +4 more` (one label line)."""
    prefix, short = shortened(items)
    head = plural(len(set(items)), noun) + (f" {prefix}*" if prefix else "")
    return f"{head}: {names(short)}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('s') else 's'}"


@dataclass
class _Place:
    key: str  # a region identifier, "unknown region", or "legacy:<site>"
    title: str
    lines: list[str] = field(default_factory=list)
    verdict: str = ""  # "" when approved; else the words that say why not
    css: str = "approved"
    members: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def node(self, nid: str) -> str:
        parts = [f"<b>{label(self.title)}</b>"]
        if self.verdict:
            parts.append(f"<b>⚠ {label(self.verdict)}</b>")
        parts += [label(line) for line in self.lines]
        for kind, found in self.members.items():
            parts.append(label(listing(kind, found)))
        return f'  {nid}["{"<br/>".join(parts)}"]:::{self.css}'


def _region_place(region: str | None) -> _Place:
    if not region:
        return _Place("unknown region", "unknown region", verdict="UNKNOWN REGION: not judged", css="outside")
    facts = region_facts(region)
    if facts is None:
        return _Place(region, region, verdict="NOT IN THE CATALOGUE", css="outside")
    title = f"{region} ({facts['key']})"
    place = _Place(region, title, lines=[f"{facts['jurisdiction']} · realm {facts['realm']}"])
    if facts["jurisdiction"] != "US":
        place.verdict, place.css = f"OUTSIDE THE US ({facts['jurisdiction']})", "outside"
    elif facts["status"] != "approved":
        place.verdict, place.css = f"NOT APPROVED ({facts['status']})", "outside"
    return place


_KIND_WORDS = {
    "bucket": "bucket",
    "vault": "vault",
    "key": "key",
    "log-group": "log group",
    "database": "database",
    "volume": "volume",
    "file-system": "file system",
}


# How a crossing reads along its arrow (from -> to): "IAD replicates 4 buckets (to PHX)", "IAD
# vault replica of 1 vault (in PHX)", "PHX 1 resource keyed from there (FRA)"; {n} is the count
# with its noun, {p} the names' shared prefix.
_CROSSING_TEXT = {
    "replicates": "replicates {n}{p}",
    "vault replica": "vault replica of {n}{p}",
    "keyed from": "{n}{p} keyed from there",
    # A legacy site's link (preflight/legacy_paths.py), drawn site -> region: the way restored
    # data travels, over sessions only US hosts open.
    "restore path": "one-way restore path: US hosts open {n}{p}, nothing at the site opens in",
    "opens in": "⚠ TWO-WAY: the site can open connections in, through {n}{p}",
    "replica writes": "mode replica: US hosts also write {n}{p} there, over the same sessions",
}
_CROSSING_NOUN = {
    "replicates": "bucket",
    "vault replica": "vault",
    "keyed from": "resource",
    "restore path": "store address",
    "opens in": "rule",
    "replica writes": "bucket",
}
_ALARMING = ("opens in",)
_WHOLE = ("restore path", "opens in")


def residency_map(inventory: Inventory, synth: SynthResult | None = None) -> str:
    """A Mermaid flowchart of where data lives and where it goes (see the module docstring)."""
    places: dict[str, _Place] = {}

    def region(r: str | None) -> _Place:
        key = r or "unknown region"
        if key not in places:
            places[key] = _region_place(r)
        return places[key]

    urn_place: dict[str, str] = {}
    for d in inventory.data:
        if d.kind == "s3-bucket":
            continue  # a legacy site's bucket: drawn with its site
        p = region(d.region)
        p.members[_KIND_WORDS.get(d.kind, d.kind)].append(d.name)
        urn_place[d.urn] = p.key

    # Legacy sites: one node each, with country, mode, sunset, waiver and buckets.
    for leg in inventory.legacy:
        key = f"legacy:{leg.site}"
        place = places.get(key)
        if place is None:
            country = leg.country or "unknown country"
            place = _Place(key, f"legacy site {leg.site}", css="legacy")
            place.lines.append(f"{country} · S3-compatible store")
            place.lines.append(f"mode {leg.mode or '?'} · sunset {leg.sunset or 'none'}")
            if leg.waiver_expires:
                place.lines.append(f"waiver expires {leg.waiver_expires}")
            if leg.country is None:
                place.verdict, place.css = "COUNTRY UNKNOWN: not judged", "outside"
            elif country != "US":
                place.verdict, place.css = f"OUTSIDE THE US ({country})", "outside"
            places[key] = place
        place.members["bucket"].append(leg.bucket)
        urn_place[leg.urn] = key

    # The links to legacy sites: restores travel site -> region, over sessions US hosts open.
    link_crossings: list[tuple[str, str, str, list[str]]] = []
    for path in inventory.paths:
        key = f"legacy:{path.site}"
        if key not in places:
            place = _Place(key, f"legacy site {path.site}", css="outside")
            place.lines.append(f"IPSec link to {names(path.cidrs)} · no bucket of this stack there")
            place.verdict = "COUNTRY UNKNOWN: not judged"
            places[key] = place
        linked = region(path.region).key
        if path.one_way:
            link_crossings.append((key, linked, "restore path", path.reaches or ["nothing"]))
        else:
            link_crossings.append((key, linked, "opens in", path.opens_in))
        writes = [
            leg.bucket
            for leg in inventory.legacy
            if leg.site == path.site and leg.mode == "replica" and leg.role == "replica"
        ]
        if writes:
            # The same sessions, opened by US hosts: one edge, so the site stays beside its
            # region instead of pulling it out of the regions' rows.
            link_crossings.append((key, linked, "replica writes", writes))

    # Waivers: folded into the node of what they waive.
    waived: dict[str, list[str]] = defaultdict(list)
    for w in inventory.waivers:
        where = urn_place.get(w.urn)
        if where is not None and w.target not in waived[where]:
            waived[where].append(w.target)
    for where, targets in sorted(waived.items()):
        places[where].lines.append(f"waived: {names(targets)}")

    # What crosses from one place to another, one edge per (from, to, kind).
    crossings: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for e in inventory.edges:
        src = urn_place.get(e.source_urn or "") or region(e.source_region).key
        dst = region(e.destination_region).key
        crossings[(src, dst, "vault replica" if e.kind == "vault-replica" else "replicates")].append(e.source)
    for src, dst, kind, what in link_crossings:
        crossings[(src, dst, kind)].extend(what)
    for d in inventory.data:
        if d.kind in ("key", "vault", "s3-bucket") or not d.key:
            continue
        held = urn_place.get(d.urn)
        if held is None or not (d.key_region or d.key.startswith("ocid1.")):
            continue  # a provider-managed key (S3-managed AES256): held where the data is
        keys = region(d.key_region).key
        if keys != held:
            crossings[(held, keys, "keyed from")].append(d.name)

    order = sorted(places, key=lambda k: (places[k].css == "outside", k.startswith("legacy:"), k))
    ids = {key: f"P{i}" for i, key in enumerate(order)}
    lines = [*FRONT_MATTER, "flowchart LR"]
    if synth is not None:
        lines.append(f"  %% residency map of {synth.project}/{synth.stack}, generated by preflight")
    lines += [places[key].node(ids[key]) for key in order]
    link_styles: list[str] = []
    # One edge per pair of places; each kind of crossing is a line of its label.
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    dotted: dict[tuple[str, str], bool] = {}
    alarming: set[tuple[str, str]] = set()
    for (src, dst, kind), what in sorted(
        crossings.items(), key=lambda c: (ids[c[0][0]], ids[c[0][1]], c[0][2])
    ):
        # Addresses and rules read whole; names sharing a prefix are folded under it.
        prefix, short = ("", what) if kind in _WHOLE else shortened(what)
        prefix_text = f" {prefix}*" if prefix else ""
        head = _CROSSING_TEXT[kind].format(n=plural(len(short), _CROSSING_NOUN[kind]), p=prefix_text)
        pairs[(src, dst)].append(label(f"{head}: {names(short, 3)}"))
        dotted[(src, dst)] = dotted.get((src, dst), True) and kind == "keyed from"
        if kind in _ALARMING:
            alarming.add((src, dst))
    for n, ((src, dst), text) in enumerate(pairs.items()):
        arrow = "-.->" if dotted[(src, dst)] else "-->"
        lines.append(f'  {ids[src]} {arrow}|"{"<br/>".join(text)}"| {ids[dst]}')
        if "outside" in (places[src].css, places[dst].css) or (src, dst) in alarming:
            link_styles.append(f"  linkStyle {n} {_OUTSIDE_STYLE}")
    lines += link_styles
    lines += CLASS_DEFS
    return "\n".join(lines)
