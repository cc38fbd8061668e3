"""The residency map's text (preflight/residency_map.py): one node per place, one edge per pair of
places, never an edge dropped, anything outside the approved US set said in words.

How it renders is tests/preflight/test_residency_map_browser.py's (mermaid.js in Chromium)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from preflight.diff import _residency_changes
from preflight.residency_map import residency_map, shortened
from tests.preflight.map_estates import fifty_buckets_one_to_frankfurt, inventory_of, unknown_and_foreign_keys

NODE = re.compile(r'^  (P\d+)\["(.*)"\]:::(\w+)$')
EDGE = re.compile(r'^  (P\d+) (-->|-\.->)\|"(.*)"\| (P\d+)$')


def parse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str, str]], list[str]]:
    nodes: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str, str, str]] = []
    styles: list[str] = []
    for line in text.splitlines():
        if m := NODE.match(line):
            nodes[m[1]] = (m[2], m[3])
        elif m := EDGE.match(line):
            edges.append((m[1], m[4], m[3], m[2]))
        elif line.startswith("  linkStyle "):
            styles.append(line)
    return nodes, edges, styles


def node_named(nodes: dict[str, tuple[str, str]], title: str) -> str:
    [nid] = [n for n, (text, _cls) in nodes.items() if text.startswith(f"<b>{title}")]
    return nid


def test_prod_is_one_node_per_place_and_one_edge_per_pair_with_what_crosses() -> None:
    inv = inventory_of("prod")
    nodes, edges, styles = parse(residency_map(inv))
    regions = {"us-ashburn-1 (IAD)", "us-phoenix-1 (PHX)", "us-chicago-1 (ORD)", "us-sanjose-1 (SJC)"}
    titles = {re.match(r"<b>(.*?)</b>", text)[1] for text, _ in nodes.values()}  # type: ignore[index]
    assert titles == regions | {"legacy site legacy-us-east", "legacy site legacy-sg"}
    # Twenty replication and vault-replica resources become one edge per pair of regions, each
    # saying which buckets and which vault cross it; nothing crosses a border, so no red edge.
    assert sum(1 for e in inv.edges if e.kind == "bucket-replication") == 16
    pairs = {(src, dst) for src, dst, _, _ in edges}
    # 4 between the regions and each site's restore path into Ashburn (the replica site's writes
    # ride the same sessions, a line of the same edge).
    assert len(edges) == len(pairs) == 6
    iad, phx = node_named(nodes, "us-ashburn-1"), node_named(nodes, "us-phoenix-1")
    sg, us_east = node_named(nodes, "legacy site legacy-sg"), node_named(nodes, "legacy site legacy-us-east")
    paths = {(src, dst): text for src, dst, text, _ in edges if src in (sg, us_east) or dst in (sg, us_east)}
    one_way = "one-way restore path: US hosts open 2 store addresses, nothing at the site opens in: "
    assert paths == {
        (sg, iad): one_way + "172.17.10.10 on TCP 443, 172.17.10.11 on TCP 443",
        (us_east, iad): "mode replica: US hosts also write 1 bucket there, over the same sessions: backups"
        "<br/>" + one_way + "172.16.10.10 on TCP 443, 172.16.10.11 on TCP 443",
    }
    [label] = [text for src, dst, text, _ in edges if (src, dst) == (iad, phx)]
    assert label.startswith("replicates 4 buckets usdr-prod-iad-*: direct-messages, media, posts +1 more")
    assert "<br/>vault replica of 1 vault: usdr-prod-iad-vault" in label
    # The Singapore path is drawn red (its site is outside the US); nothing else is.
    order = [(src, dst) for src, dst, _, _ in edges]
    assert styles == [f"  linkStyle {order.index((sg, iad))} stroke:#cf222e,stroke-width:3px,color:#cf222e"]
    # Keys and logs are folded into their region's node.
    text, cls = nodes[iad]
    assert cls == "approved"
    assert "3 keys usdr-prod-iad-key-*: account, messages, user-content" in text
    assert "1 log group: usdr-prod-iad-log-group" in text and "8 buckets usdr-prod-iad-*:" in text
    # The legacy sites carry country, mode, sunset, waiver; Singapore is unmistakable.
    sg_text, sg_cls = nodes[node_named(nodes, "legacy site legacy-sg")]
    assert sg_cls == "outside" and "<b>⚠ OUTSIDE THE US (SG)</b>" in sg_text
    assert "mode frozen · sunset 2027-06-30" in sg_text and "waiver expires 2027-06-30" in sg_text
    us_text, us_cls = nodes[node_named(nodes, "legacy site legacy-us-east")]
    assert us_cls == "legacy" and "mode replica · sunset 2027-09-30" in us_text and "⚠" not in us_text


def test_staging_draws_its_own_regions_and_nothing_outside() -> None:
    nodes, edges, _ = parse(residency_map(inventory_of("staging")))
    assert nodes and all(cls != "outside" or "legacy site" in text for text, cls in nodes.values())
    assert all(src != dst for src, dst, _, _ in edges)


def test_a_border_crossing_among_fifty_buckets_is_one_red_edge_never_cut() -> None:
    nodes, edges, styles = parse(residency_map(fifty_buckets_one_to_frankfurt()))
    iad, phx = node_named(nodes, "us-ashburn-1"), node_named(nodes, "us-phoenix-1")
    fra = node_named(nodes, "eu-frankfurt-1")
    fra_text, fra_cls = nodes[fra]
    assert fra_cls == "outside" and "⚠ OUTSIDE THE US (DE)" in fra_text
    assert "50 buckets usdr-adv-iad-bucket-*: 00, 01, 02, 03 +46 more" in nodes[iad][0]
    by_pair = {(src, dst): (i, text) for i, (src, dst, text, _) in enumerate(edges)}
    assert set(by_pair) == {(iad, phx), (iad, fra)}
    assert by_pair[(iad, phx)][1] == "replicates 50 buckets usdr-adv-iad-bucket-*: 00, 01, 02 +47 more"
    n, text = by_pair[(iad, fra)]
    assert text == "replicates 1 bucket: usdr-adv-iad-bucket-37"
    assert styles == [f"  linkStyle {n} stroke:#cf222e,stroke-width:3px,color:#cf222e"]


def test_unknown_places_and_foreign_keys_are_drawn_and_said() -> None:
    text = residency_map(unknown_and_foreign_keys())
    nodes, edges, styles = parse(text)
    unknown = node_named(nodes, "unknown region")
    assert nodes[unknown][1] == "outside" and "UNKNOWN REGION: not judged" in nodes[unknown][0]
    iad, phx = node_named(nodes, "us-ashburn-1"), node_named(nodes, "us-phoenix-1")
    fra = node_named(nodes, "eu-frankfurt-1")
    kinds = {(src, dst): (label, arrow) for src, dst, label, arrow in edges}
    assert kinds[(phx, fra)] == ("1 resource keyed from there: keyed-abroad", "-.->")
    assert kinds[(iad, unknown)][0].startswith(
        "replicates 1 bucket: user #quot;posts#quot; #35;1#59; #lt;b#gt;"
    )
    assert len(styles) == 2  # both edges touch a place outside the approved set
    legacy = node_named(nodes, "legacy site legacy-xx")
    assert nodes[legacy][1] == "outside" and "COUNTRY UNKNOWN: not judged" in nodes[legacy][0]
    # No raw character in any label can end it early or open markup.
    for label, _cls in nodes.values():
        assert '"' not in label and "<b>" not in label.replace("<b>", "", label.count("<b>"))


def test_shortened_cuts_only_a_shared_prefix_that_ends_a_word() -> None:
    assert shortened(["usdr-prod-iad-media", "usdr-prod-iad-posts"]) == ("usdr-prod-iad-", ["media", "posts"])
    assert shortened(["media-a", "media-b"]) == ("media-", ["a", "b"])
    assert shortened(["alpha", "alpine"]) == ("", ["alpha", "alpine"])  # "alp" ends no word
    assert shortened(["logs-", "logs-x"]) == ("", ["logs-", "logs-x"])  # a name would vanish
    assert shortened(["only-one"]) == ("", ["only-one"])


# --------------------------------------------------------------------------- the diff, in residency terms

TODAY = date(2026, 12, 20)
SITES = {"legacy-sg": {"country": "SG", "mode": "frozen", "sunset": "2027-06-30"}}
WAIVER = {"target": "legacy-sg", "owner": "dr@example.com", "expires": "2027-06-30"}


def changes(base: dict[str, Any], head: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c.subject, c.kind, c.what) for c in _residency_changes(base, head, TODAY)]


def test_no_residency_change_says_nothing() -> None:
    config = {"p:legacySites": SITES, "p:waivers": [WAIVER], "p:regions": {"us-ashburn-1": {}}}
    assert changes(config, config) == []


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sunset", "2027-03-31", "sunset 2027-06-30 → 2027-03-31 (91 days earlier)"),
        ("mode", "replica", "mode frozen → replica"),
        ("country", "MY", "country SG → MY"),
    ],
)
def test_each_site_field_that_moves_is_named(key: str, value: str, expected: str) -> None:
    head = {"p:legacySites": {"legacy-sg": {**SITES["legacy-sg"], key: value}}}
    assert changes({"p:legacySites": SITES}, head) == [("legacy site legacy-sg", "changed", expected)]


def test_sites_and_regions_added_and_removed() -> None:
    base = {"p:legacySites": SITES, "p:regions": {"us-ashburn-1": {}, "us-phoenix-1": {}}}
    head = {
        "p:legacySites": {"legacy-us-west": {"country": "US", "mode": "replica"}},
        "p:regions": {"us-ashburn-1": {}, "us-chicago-1": {}},
    }
    assert changes(base, head) == [
        ("legacy site legacy-sg", "removed", "was SG · mode frozen"),
        ("legacy site legacy-us-west", "added", "US · mode replica · sunset none"),
        ("approved region us-chicago-1", "added", "now deployed to"),
        ("approved region us-phoenix-1", "removed", "no longer deployed to"),
    ]


def test_waivers_added_removed_moved_expiring_and_expired() -> None:
    assert changes({}, {"p:waivers": [WAIVER]}) == [
        ("waiver legacy-sg", "added", "owner dr@example.com · expires 2027-06-30")
    ]
    assert changes({"p:waivers": [WAIVER]}, {}) == [("waiver legacy-sg", "removed", "was until 2027-06-30")]
    soon = {**WAIVER, "expires": "2027-01-19"}  # 30 days after TODAY: the pack starts warning
    assert changes({"p:waivers": [soon]}, {"p:waivers": [soon]}) == [
        ("waiver legacy-sg", "changed", "expires in 30 days (2027-01-19)")
    ]
    later = {**WAIVER, "expires": "2027-01-20"}  # 31 days: not yet
    assert changes({"p:waivers": [later]}, {"p:waivers": [later]}) == []
    gone = {**WAIVER, "expires": "2026-12-19"}
    assert changes({"p:waivers": [WAIVER]}, {"p:waivers": [gone]}) == [
        ("waiver legacy-sg", "changed", "expires 2027-06-30 → 2026-12-19 (193 days earlier)"),
        ("waiver legacy-sg", "changed", "expired on 2026-12-19"),
    ]


def test_values_the_settings_would_refuse_are_compared_as_text_not_dropped() -> None:
    base = {"p:legacySites": {"x": {"sunset": "someday"}}, "p:waivers": [{"target": "x", "expires": "never"}]}
    head = {"p:legacySites": {"x": {"sunset": "2027-01-01"}}, "p:waivers": "not a list"}
    assert changes(base, head) == [
        ("legacy site x", "changed", "sunset someday → 2027-01-01"),
        ("waiver x", "removed", "was until never"),
    ]


def test_the_pr_comment_lists_the_residency_changes() -> None:
    from preflight.diff import DiffResult, FindingDelta, RegionDelta, render_markdown

    delta = RegionDelta(places=[], edges_added=[], edges_removed=[], edges_kept=[])
    delta.residency = _residency_changes({"p:legacySites": SITES}, {"p:legacySites": {}}, TODAY)
    result = DiffResult(
        stack="prod",
        base_label="main",
        head_label="pr",
        changes=[],
        unchanged=0,
        findings=FindingDelta(),
        regions=delta,
    )
    md = render_markdown(result)
    assert "Residency changes (sites, waivers, approved regions):" in md
    assert "- **legacy site legacy-sg**: removed, was SG · mode frozen" in md
    assert 'c0["legacy site legacy-sg<br/>was SG · mode frozen"]:::removed' in md
