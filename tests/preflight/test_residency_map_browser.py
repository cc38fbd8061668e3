"""The residency maps as a reviewer sees them: rendered by mermaid.js in headless Chromium
(tests/preflight/browser.py), not only read as text (issue 18).

Every map parses and renders; every node and every edge of the text is drawn; no edge label
hides behind a node or another label; prod's estate fits one screen (1920 x 1080) with its four
regions side by side in two rows at most; a border crossing is drawn and labelled whatever else
is in the map.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from preflight.diff import Place, RegionDelta, _residency_changes
from preflight.diff import residency_map as diff_map
from preflight.residency_map import residency_map
from tests.preflight.browser import render
from tests.preflight.map_estates import fifty_buckets_one_to_frankfurt, inventory_of, unknown_and_foreign_keys

pytestmark = pytest.mark.slow
SCREEN = (1920, 1080)


def _diff_with_residency_changes() -> str:
    base = {
        "p:legacySites": {
            "legacy-sg": {"country": "SG", "mode": "frozen", "sunset": "2027-06-30"},
        },
        "p:waivers": [{"target": "legacy-sg", "owner": "dr@example.com", "expires": "2027-06-30"}],
        "p:regions": {"us-ashburn-1": {}, "us-phoenix-1": {}},
    }
    head = {
        "p:legacySites": {
            "legacy-sg": {"country": "SG", "mode": "frozen", "sunset": "2027-12-31"},
            "legacy-us-west": {"country": "US", "mode": "replica", "sunset": "2028-01-31"},
        },
        "p:waivers": [{"target": "legacy-sg", "owner": "dr@example.com", "expires": "2027-01-15"}],
        "p:regions": {"us-ashburn-1": {}, "us-phoenix-1": {}, "us-chicago-1": {}},
    }
    places = [
        Place("us-ashburn-1", 40, 41),
        Place("us-phoenix-1", 40, 40),
        Place("us-chicago-1", 0, 12),
        Place("ap-southeast-1 · legacy-sg", 6, 6),
    ]
    delta = RegionDelta(
        places=places,
        edges_added=[("us-chicago-1", "us-ashburn-1", "ReplicationPolicy")],
        edges_removed=[],
        edges_kept=[("us-ashburn-1", "us-phoenix-1", "ReplicationPolicy")],
        residency=_residency_changes(base, head, date(2026, 12, 20)),
    )
    return diff_map(delta)


@pytest.fixture(scope="module")
def maps() -> dict[str, str]:
    return {
        "prod": residency_map(inventory_of("prod")),
        "staging": residency_map(inventory_of("staging")),
        "fifty buckets, one to Frankfurt": residency_map(fifty_buckets_one_to_frankfurt()),
        "unknown places, foreign keys, hostile names": residency_map(unknown_and_foreign_keys()),
        "diff with residency changes": _diff_with_residency_changes(),
    }


@pytest.fixture(scope="module")
def rendered(maps: dict[str, str]) -> dict[str, dict[str, Any]]:
    results = render(list(maps.values()))
    return dict(zip(maps, results, strict=True))


@pytest.mark.parametrize(
    "name",
    [
        "prod",
        "staging",
        "fifty buckets, one to Frankfurt",
        "unknown places, foreign keys, hostile names",
        "diff with residency changes",
    ],
)
def test_every_map_renders_whole_and_no_label_is_hidden(
    name: str, maps: dict[str, str], rendered: dict[str, dict[str, Any]]
) -> None:
    result = rendered[name]
    assert "error" not in result, result.get("error")
    nodes = [
        line for line in maps[name].splitlines() if line.startswith("  ") and '["' in line and ":::" in line
    ]
    edges = [line for line in maps[name].splitlines() if _is_edge(line)]
    assert len(result["nodes"]) == len(nodes), "every node of the text is drawn"
    assert result["edges"] == len(edges), "every edge of the text is drawn"
    assert result["hidden_labels"] == [], "no edge label hides behind a node"
    assert result["overlapping_labels"] == [], "no two edge labels overlap"


def _is_edge(line: str) -> bool:
    return line.startswith("  ") and any(a in line for a in (" -->", " ==>", " -.->", " --- "))


def test_prod_fits_one_screen_with_the_regions_side_by_side(rendered: dict[str, dict[str, Any]]) -> None:
    prod = rendered["prod"]
    width, height = prod["width"], prod["height"]
    assert width <= SCREEN[0] and height <= SCREEN[1], f"prod's map is {width} x {height} px"
    assert width >= height * 0.6, f"a strip, not a map: {width} x {height} px"
    regions = [n for n in prod["nodes"] if n["text"].startswith("us-")]
    assert len(regions) == 4
    rows = {round(n["y"]) for n in regions}
    assert len(rows) <= 2, "the four regions sit side by side (two rows at most)"
    legacy_sg = next(n for n in prod["nodes"] if n["text"].startswith("legacy site legacy-sg"))
    assert "outside" in legacy_sg["cls"] and "⚠ OUTSIDE THE US (SG)" in legacy_sg["text"]
    labels = prod["edge_labels"]
    assert len(labels) == 6
    between_regions = [text for text in labels if "replicates 4 buckets" in text]
    assert len(between_regions) == 4 and all("vault replica of 1 vault" in text for text in between_regions)
    assert sum("one-way restore path" in text for text in labels) == 2


def test_a_border_crossing_is_drawn_labelled_and_red(rendered: dict[str, dict[str, Any]]) -> None:
    result = rendered["fifty buckets, one to Frankfurt"]
    fra = next(n for n in result["nodes"] if n["text"].startswith("eu-frankfurt-1"))
    assert "outside" in fra["cls"] and "OUTSIDE THE US (DE)" in fra["text"]
    assert "replicates 1 bucket: usdr-adv-iad-bucket-37" in result["edge_labels"]


def test_hostile_names_render_as_text(rendered: dict[str, dict[str, Any]]) -> None:
    result = rendered["unknown places, foreign keys, hostile names"]
    iad = next(n for n in result["nodes"] if n["text"].startswith("us-ashburn-1"))
    assert 'user "posts" #1; <b>' in iad["text"]
    assert any(
        label.startswith('replicates 1 bucket: user "posts" #1; <b>') for label in result["edge_labels"]
    )


def test_the_diff_map_shows_what_changed_in_residency_terms(rendered: dict[str, dict[str, Any]]) -> None:
    texts = [n["text"] for n in rendered["diff with residency changes"]["nodes"]]
    joined = "\n".join(texts)
    assert "legacy site legacy-sgsunset 2027-06-30 → 2027-12-31 (184 days later)" in joined
    assert "legacy site legacy-us-westUS · mode replica · sunset 2028-01-31" in joined
    assert "waiver legacy-sgexpires 2027-06-30 → 2027-01-15 (166 days earlier)" in joined
    assert "expires in 26 days (2027-01-15)" in joined
    assert "approved region us-chicago-1now deployed to" in joined
