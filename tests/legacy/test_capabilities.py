"""Issue 13 item 5: a legacy site's store may lack what pulumi-aws sends; manage only what it has.

Of the capabilities a site declares (`legacySites.<site>.capabilities`, stacks/settings.py), the
ones a residency control relies on are refused when missing (tests/test_settings.py); the one a
site may lack, ownership controls, is then not declared at all (a BucketOwnershipControls the
store rejects would fail every `pulumi up`), and the compensating control must hold: the bucket
policy denies every ACL change to everyone, so no ACL can open what the policy closes.
"""

from __future__ import annotations

import dataclasses
import json

from stacks.legacy import build_legacy_sites
from stacks.settings import Settings
from tests.legacy.conftest import Synth, site_of, synth
from tests.legacy.iam import Caller, decide

OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ACL_CHANGES = (
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutBucketOwnershipControls",
)


def _without_ownership_controls(settings: Settings, name: str) -> Synth:
    sites = tuple(
        dataclasses.replace(s, capabilities=dataclasses.replace(s.capabilities, ownership_controls=False))
        if s.name == name
        else s
        for s in settings.legacy_sites
    )
    result = synth(lambda: build_legacy_sites(dataclasses.replace(settings, legacy_sites=sites)))
    assert result.error is None, result.error
    return result


def test_prod_manages_ownership_controls_everywhere(prod_settings: Settings, prod_synth: Synth) -> None:
    for site in prod_settings.legacy_sites:
        assert site.capabilities.ownership_controls
        owned = {r.inputs["bucket"] for r in prod_synth.of_type(OWNERSHIP) if site_of(r) == site.name}
        assert owned == {*site.buckets, f"{site.name}-access-logs"}


def test_a_store_without_ownership_controls_gets_none_and_the_policy_still_denies_acls(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    site = prod_settings.legacy_sites[0]
    s = _without_ownership_controls(prod_settings, site.name)
    assert not [r for r in s.of_type(OWNERSHIP) if site_of(r) == site.name]
    # The other site is untouched, and nothing else of this site disappears.
    others = [r for r in s.of_type(OWNERSHIP) if site_of(r) != site.name]
    assert len(others) == len([r for r in prod_synth.of_type(OWNERSHIP) if site_of(r) != site.name])
    assert len(s.resources) == len(prod_synth.resources) - len(site.buckets) - 1
    tls = {"aws:SecureTransport": "true", "aws:CurrentTime": "2027-01-15T12:00:00Z"}
    callers = [
        Caller("deployer", aws=site.deployer),
        Caller("restore", aws=site.restore_principal),
        Caller("admin", aws="arn:aws:iam::000000000000:role/site-admin"),
    ]
    policies = [pol for pol in s.of_type(POLICY) if site_of(pol) == site.name]
    assert {pol.inputs["bucket"] for pol in policies} == {*site.buckets, f"{site.name}-access-logs"}
    for pol in policies:
        doc = json.loads(pol.inputs["policy"])
        arn = f"arn:aws:s3:::{pol.inputs['bucket']}"
        for action in ACL_CHANGES:
            for c in callers:
                for res in (arn, f"{arn}/k"):
                    assert decide(doc, c, action, res, **tls) == "deny", f"{pol.urn}: {c.label} {action}"
