"""preflight/legacy_paths.py: a legacy site's path is drawn one-way only when the records show it.

Each case starts from prod's own records (the real program, synthesized offline) and makes the
edit a careless or clever engineer would make to let a site open connections in: an ingress
rule on a security list or an NSG, the firewall's rules reordered or one admitting the site put
first, a source the map cannot read. Each must turn the restore path into a red "TWO-WAY" edge
naming the cause; prod as it is draws both paths one-way.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from preflight.inventory import build_inventory
from preflight.legacy_paths import FW_RULE, legacy_paths
from preflight.model import ResourceRecord
from preflight.residency_map import residency_map
from preflight.synth import UNKNOWN_PLACEHOLDER
from tests.preflight.map_estates import records_of
from tests.preflight.test_residency_map import node_named, parse

SG = "172.17.0.0/16"


def edited(change: Callable[[list[ResourceRecord]], None]) -> list[ResourceRecord]:
    records = [dataclasses.replace(r, inputs=copy.deepcopy(r.inputs)) for r in records_of("prod")]
    change(records)
    return records


def named(records: list[ResourceRecord], name: str) -> ResourceRecord:
    [r] = [r for r in records if r.name == name]
    return r


def sg_path(records: list[ResourceRecord]) -> Any:
    [path] = [p for p in legacy_paths(records) if p.site == "legacy-sg"]
    return path


def test_prod_draws_both_sites_one_way_and_reaches_only_their_stores() -> None:
    paths = {p.site: p for p in legacy_paths(records_of("prod"))}
    assert set(paths) == {"legacy-us-east", "legacy-sg"}
    for site, prefix in (("legacy-us-east", "172.16"), ("legacy-sg", "172.17")):
        p = paths[site]
        assert p.region == "us-ashburn-1" and p.one_way, (site, p.opens_in)
        assert p.cidrs == [f"{prefix}.0.0/16"]
        assert p.reaches == [f"{prefix}.10.10 on TCP 443", f"{prefix}.10.11 on TCP 443"]


def _sl_ingress(source: str) -> Callable[[list[ResourceRecord]], None]:
    def change(records: list[ResourceRecord]) -> None:
        sl = named(records, "iad-network-sl-data")
        sl.inputs["ingressSecurityRules"].append(
            {
                "protocol": "6",
                "source": source,
                "sourceType": "CIDR_BLOCK",
                "tcpOptions": {"min": 22, "max": 22},
            }
        )

    return change


def _nsg_ingress(records: list[ResourceRecord]) -> None:
    rule = named(records, "iad-network-nsg-data-in-app")
    rule.inputs["source"] = "172.17.10.10/32"


def _firewall_admits_first(records: list[ResourceRecord]) -> None:
    # "inspect-from-legacy" as it used to be, placed before every other rule.
    first = next(r for r in records if r.type == FW_RULE and not r.inputs.get("positions"))
    extra = dataclasses.replace(
        first,
        urn=first.urn + "-extra",
        name="iad-firewall-policy-rule-inspect-from-legacy",
        inputs={
            **copy.deepcopy(first.inputs),
            "name": "inspect-from-legacy",
            "action": "INSPECT",
            "condition": {"sourceAddresses": ["legacy-sites"], "destinationAddresses": ["vcn"]},
        },
    )
    first.inputs["positions"] = [{"afterRule": "inspect-from-legacy"}]
    records.append(extra)


def _firewall_reject_moved_down(records: list[ResourceRecord]) -> None:
    # reject-from-legacy moved after inspect-to-data: the first match for a site's session is
    # now an INSPECT rule with any source.
    rules = {r.inputs["name"]: r for r in records if r.type == FW_RULE and r.region == "us-ashburn-1"}
    after = {name: (r.inputs.get("positions") or [{}])[0].get("afterRule") for name, r in rules.items()}
    chain = [n for n in rules if after[n] is None]
    while len(chain) < len(rules):
        chain.append(next(n for n in rules if after[n] == chain[-1]))
    chain.remove("reject-from-legacy")
    chain.insert(chain.index("inspect-to-data") + 1, "reject-from-legacy")
    for i, name in enumerate(chain):
        rules[name].inputs["positions"] = [{"afterRule": chain[i - 1]}] if i else None


def _firewall_chain_broken(records: list[ResourceRecord]) -> None:
    rule = named(records, "iad-firewall-policy-rule-inspect-to-data")
    rule.inputs["positions"] = None  # two rules now claim the first place


def _unknown_source(records: list[ResourceRecord]) -> None:
    named(records, "iad-network-nsg-data-in-app").inputs["source"] = None


def _unknown_rules(records: list[ResourceRecord]) -> None:
    # A preview where a list's rules are unknown: the engine sends them as one unknown value.
    named(records, "iad-network-sl-data").inputs["ingressSecurityRules"] = UNKNOWN_PLACEHOLDER


def _unknown_condition(records: list[ResourceRecord]) -> None:
    named(records, "iad-firewall-policy-rule-reject-from-legacy").inputs["condition"] = UNKNOWN_PLACEHOLDER


def _unknown_order(records: list[ResourceRecord]) -> None:
    named(records, "iad-firewall-policy-rule-inspect-to-data").inputs["positions"] = UNKNOWN_PLACEHOLDER


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        (_sl_ingress(SG), f"iad-network-sl-data: ingress from {SG} (TCP 22)"),
        (_sl_ingress("172.17.99.0/24"), "iad-network-sl-data: ingress from 172.17.99.0/24 (TCP 22)"),
        (_sl_ingress("0.0.0.0/0"), "iad-network-sl-data: ingress from 0.0.0.0/0 (TCP 22)"),
        (_nsg_ingress, "iad-network-nsg-data-in-app: ingress from 172.17.10.10/32 (TCP 443)"),
        (_firewall_admits_first, "firewall rule inspect-from-legacy: INSPECT from legacy-sites"),
        (_firewall_reject_moved_down, "firewall rule inspect-to-data: INSPECT from any source"),
        (_firewall_chain_broken, "rule order is not a chain, which it cannot check"),
        (_unknown_source, "iad-network-nsg-data-in-app: ingress from None, not a CIDR it can check"),
        (_unknown_rules, "iad-network-sl-data: ingressSecurityRules is '[unknown]', which it cannot check"),
        (_unknown_condition, "firewall rule reject-from-legacy: condition '[unknown]' it cannot check"),
        (_unknown_order, "rule order is not a chain, which it cannot check"),
    ],
    ids=[
        "sl-site",
        "sl-part-of-site",
        "sl-anywhere",
        "nsg-store",
        "fw-admit-first",
        "fw-reordered",
        "fw-chain",
        "unknown",
        "unknown-rules",
        "unknown-condition",
        "unknown-order",
    ],
)
def test_a_way_in_is_drawn_two_way_and_red_naming_its_cause(
    change: Callable[[list[ResourceRecord]], None], cause: str
) -> None:
    records = edited(change)
    path = sg_path(records)
    assert not path.one_way
    assert any(cause in why for why in path.opens_in), path.opens_in
    nodes, edges, styles = parse(residency_map(build_inventory(records)))
    sg, iad = node_named(nodes, "legacy site legacy-sg"), node_named(nodes, "us-ashburn-1")
    order = [(src, dst) for src, dst, _, _ in edges]
    [text] = [text for src, dst, text, _ in edges if (src, dst) == (sg, iad)]
    assert text.startswith("⚠ TWO-WAY: the site can open connections in, through"), text
    assert "one-way" not in text
    assert any(s.startswith(f"  linkStyle {order.index((sg, iad))} stroke:#cf222e") for s in styles)


def test_a_way_in_for_one_site_leaves_the_other_one_way() -> None:
    records = edited(_sl_ingress(SG))
    paths = {p.site: p.one_way for p in legacy_paths(records)}
    assert paths == {"legacy-us-east": True, "legacy-sg": False}


def test_an_untagged_tunnel_is_a_site_of_unknown_country_drawn_red() -> None:
    def change(records: list[ResourceRecord]) -> None:
        named(records, "iad-network-ipsec-legacy-sg").inputs["freeformTags"].pop("legacy-site")

    records = edited(change)
    sites = {p.site for p in legacy_paths(records)}
    assert sites == {"legacy-us-east", "IPSec iad-network-ipsec-legacy-sg"}
    nodes, _, _ = parse(residency_map(build_inventory(records)))
    text, cls = nodes[node_named(nodes, "legacy site IPSec iad-network-ipsec-legacy-sg")]
    assert cls == "outside" and "COUNTRY UNKNOWN" in text and "172.17.0.0/16" in text


def test_a_tunnel_whose_routes_cannot_be_read_is_not_one_way() -> None:
    def change(records: list[ResourceRecord]) -> None:
        named(records, "iad-network-ipsec-legacy-sg").inputs["staticRoutes"] = ["somewhere"]

    path = sg_path(edited(change))
    assert not path.one_way and "not CIDRs it can check" in path.opens_in[0]


def test_the_attestation_states_each_path_and_whether_it_is_one_way(tmp_path: Any) -> None:
    """The residency predicate carries the paths (docs/attestation.md, `legacy_paths[]`), valid
    against its schema: an auditor reads "one_way: false" and its cause, not only a picture."""
    import json

    import jsonschema

    from preflight import attest

    for records, sg_one_way in ((list(records_of("prod")), True), (edited(_sl_ingress(SG)), False)):
        predicate = attest.build_predicate(
            project="us-data-residency",
            stack="prod",
            project_dir=tmp_path,
            inventory=build_inventory(records),
            verdict=None,
            pack=None,
            checkov="not run",
            tool_version="test",
        )
        jsonschema.validate(predicate, json.loads(attest.PREDICATE_SCHEMA.read_text()))
        paths = {p["site"]: p for p in predicate["legacy_paths"]}
        assert paths["legacy-us-east"]["one_way"] is True
        assert paths["legacy-sg"]["one_way"] is sg_one_way
        assert bool(paths["legacy-sg"]["opens_in"]) is not sg_one_way
