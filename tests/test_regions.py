"""The region catalogue: the one list every other part reads."""

from __future__ import annotations

import csv

import pytest

from stacks.regions import CatalogueError, Status, catalogue_from_data, load_catalogue
from tests.conftest import ROOT

CAT = load_catalogue()
FACTS = ROOT / "tests" / "facts" / "oci-regions.tsv"  # checked facts, kept in the repository


def test_approved_is_exactly_the_four_oc1_us_commercial_regions() -> None:
    assert [r.identifier for r in CAT.approved()] == [
        "us-ashburn-1",
        "us-phoenix-1",
        "us-sanjose-1",
        "us-chicago-1",
    ]
    assert {r.realm for r in CAT.approved()} == {"oc1"}


def test_saltlake_is_opt_in_only() -> None:
    assert CAT.decide("us-saltlake-2").allowed is False
    assert CAT.decide("us-saltlake-2", opt_ins=["us-saltlake-2"]).allowed is True


@pytest.mark.parametrize(
    "name",
    ["us-ashburn-2", "us-newark-1", "us-somerset-1", "us-thames-1", "us-langley-1", "us-gov-ashburn-1"],
)
def test_us_prefix_is_not_approval(name: str) -> None:
    d = CAT.decide(name)
    assert d.allowed is False and d.region is not None and d.region.status is Status.FORBIDDEN


@pytest.mark.parametrize("name", [None, "", "us-east-1", "mars-1"])
def test_unknown_or_missing_region_is_not_allowed(name: str | None) -> None:
    assert CAT.decide(name).allowed is False


def test_lookup_by_key_either_case() -> None:
    assert CAT.lookup("iad") is CAT.lookup("IAD") is CAT.lookup("us-ashburn-1")


def test_realm_must_match_when_asked() -> None:
    assert CAT.decide("us-phoenix-1", realm="oc1").allowed
    assert not CAT.decide("us-phoenix-1", realm="oc2").allowed


@pytest.mark.parametrize(
    ("ocid", "expected"),
    [
        ("ocid1.key.oc1.iad.abcd.efgh", "us-ashburn-1"),
        ("ocid1.vault.oc1.us-chicago-1.abcd.efgh", "us-chicago-1"),
        ("ocid1.key.oc1.sin.abcd.efgh", "ap-singapore-1"),
        ("ocid1.key.oc1.eu-frankfurt-1.abcd.efgh", "eu-frankfurt-1"),
    ],
)
def test_region_of_ocid_short_and_long_forms(ocid: str, expected: str) -> None:
    _segment, region = CAT.region_of_ocid(ocid)
    assert region is not None and region.identifier == expected


def test_region_of_ocid_global_and_unknown() -> None:
    assert CAT.region_of_ocid("ocid1.tenancy.oc1..aaaa") == (None, None)
    assert CAT.region_of_ocid("ocid1.key.oc1.zzz.abcd.efgh") == ("zzz", None)
    assert CAT.region_of_ocid("not-an-ocid") == (None, None)


def test_catalogue_agrees_with_the_checked_facts() -> None:
    """regions.yaml carries every region of shared/facts/oci-regions.tsv with the same key and realm."""
    with FACTS.open() as f:
        facts = {row["identifier"]: row for row in csv.DictReader(f, delimiter="\t")}
    ours = {r.identifier: r for r in CAT}
    assert set(ours) == set(facts)
    for ident, row in facts.items():
        r = ours[ident]
        assert (r.key, r.realm, r.jurisdiction) == (row["key"], row["realm"], row["jurisdiction"]), ident
        # preflight answers get_availability_domains offline with this many (engine/lookups.py).
        assert r.ads == int(row["ads"]), ident
        if row["realm"] != "oc1" or row["jurisdiction"] != "US":
            assert r.status is Status.FORBIDDEN, f"{ident} must be forbidden: {row['note']}"


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ([], "non-empty list"),
        ([{"identifier": "x", "key": "X", "realm": "oc1", "jurisdiction": "US"}], "status: required"),
        (
            [{"identifier": "x", "key": "X", "realm": "oc1", "jurisdiction": "US", "status": "maybe"}],
            "not one of",
        ),
        (
            [
                {
                    "identifier": "x",
                    "key": "X",
                    "realm": "oc1",
                    "jurisdiction": "US",
                    "status": "approved",
                    "zz": 1,
                }
            ],
            "zz",
        ),
        (
            [
                {"identifier": "x", "key": "X", "realm": "oc1", "jurisdiction": "US", "status": "approved"},
                {"identifier": "y", "key": "x", "realm": "oc1", "jurisdiction": "US", "status": "approved"},
            ],
            "duplicate",
        ),
    ],
)
def test_malformed_catalogue_is_refused(rows: list[dict[str, str]], fragment: str) -> None:
    with pytest.raises(CatalogueError, match=fragment):
        catalogue_from_data(rows, "test")
