"""Every object and every noncurrent version is gone by the sunset; nothing is locked.

The end of an object is computed from the registered lifecycle and versioning inputs only:
a current version expires on the rule's date; on a versioned bucket it then becomes
noncurrent and is removed `noncurrentDays` later; on an unversioned bucket it is gone at once.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.legacy_backup import LegacyBackupArgs
from stacks.legacy import backup_args, build_legacy_sites
from stacks.settings import Settings
from tests.legacy.conftest import Synth, site_of, synth

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET = "aws:s3/bucket:Bucket"


def _whole_bucket(rule: dict[str, Any]) -> bool:
    f = rule.get("filter")
    return f is not None and set(f) <= {"prefix"} and f.get("prefix", "") == ""


def _last_day(s: Synth, site: str, bucket: str) -> date:
    """The latest day any object or version of `bucket` can still exist, from its inputs."""
    lcs = [r for r in s.of_type(LIFECYCLE) if site_of(r) == site and r.inputs["bucket"] == bucket]
    assert len(lcs) == 1, f"{site}/{bucket}: {len(lcs)} lifecycle configurations"
    rules = lcs[0].inputs["rules"]
    assert all(r["status"] == "Enabled" for r in rules), f"{lcs[0].urn}: a rule is disabled"
    versioned = [
        r
        for r in s.of_type(VERSIONING)
        if site_of(r) == site
        and r.inputs["bucket"] == bucket
        and r.inputs["versioningConfiguration"]["status"] != "Disabled"
    ]
    dates = [
        date.fromisoformat(r["expiration"]["date"])
        for r in rules
        if _whole_bucket(r) and r.get("expiration", {}).get("date")
    ]
    assert dates, f"{lcs[0].urn}: no whole-bucket expiration date: objects would live forever"
    current_end = max(dates)
    if not versioned:
        return current_end
    noncurrent = [
        int(r["noncurrentVersionExpiration"]["noncurrentDays"])
        for r in rules
        if _whole_bucket(r) and r.get("noncurrentVersionExpiration")
    ]
    assert noncurrent, f"{lcs[0].urn}: versioned, but noncurrent versions never expire"
    assert all(
        "newerNoncurrentVersions" not in r["noncurrentVersionExpiration"]
        for r in rules
        if r.get("noncurrentVersionExpiration")
    ), f"{lcs[0].urn}: newerNoncurrentVersions would keep versions past their date"
    uploads = [
        int(r["abortIncompleteMultipartUpload"]["daysAfterInitiation"])
        for r in rules
        if _whole_bucket(r) and r.get("abortIncompleteMultipartUpload")
    ]
    assert uploads, f"{lcs[0].urn}: incomplete uploads are never aborted"
    # Current versions become noncurrent at current_end, then live min(noncurrent) more days.
    return max(current_end + timedelta(days=min(noncurrent)), current_end + timedelta(days=min(uploads)))


def _buckets(settings: Settings) -> list[tuple[str, str]]:
    return [(s.name, b) for s in settings.legacy_sites for b in (*s.buckets, f"{s.name}-access-logs")]


@pytest.mark.parametrize("which", ["prod", "staging"])
def test_everything_expires_no_later_than_the_sunset(
    which: str, request: pytest.FixtureRequest, prod_settings: Settings, staging_settings: Settings
) -> None:
    s: Synth = request.getfixturevalue(f"{which}_synth")
    settings_ = prod_settings if which == "prod" else staging_settings
    sunset = {site.name: site.sunset for site in settings_.legacy_sites}
    for site, bucket in _buckets(settings_):
        assert _last_day(s, site, bucket) <= sunset[site], f"{site}/{bucket} outlives {sunset[site]}"


def test_lifecycle_dates_meet_the_sunset_exactly(prod_settings: Settings, prod_synth: Synth) -> None:
    """Not earlier than needed either: the backups stay restorable until the sunset."""
    for site in prod_settings.legacy_sites:
        for bucket in (*site.buckets, f"{site.name}-access-logs"):
            assert _last_day(prod_synth, site.name, bucket) == site.sunset, f"{site.name}/{bucket}"


def test_replica_buckets_are_versioned_and_the_log_bucket_is_not(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    versioned = {(site_of(r), r.inputs["bucket"]) for r in prod_synth.of_type(VERSIONING)}
    for r in prod_synth.of_type(VERSIONING):
        assert r.inputs["versioningConfiguration"]["status"] == "Enabled", r.urn
        assert "mfaDelete" not in r.inputs["versioningConfiguration"], r.urn
    assert versioned == {(s.name, b) for s in prod_settings.legacy_sites for b in s.buckets}


def test_no_object_lock_no_retention_no_force_destroy(prod_synth: Synth) -> None:
    assert not [r.urn for r in prod_synth.resources if "ObjectLock" in r.type or "objectLock" in r.type]
    buckets = prod_synth.of_type(BUCKET)
    assert buckets
    for b in buckets:
        assert b.inputs.get("objectLockEnabled") is False, f"{b.urn}: object lock"
        assert "objectLockConfiguration" not in b.inputs, b.urn
        assert b.inputs.get("forceDestroy") is False, f"{b.urn}: force destroy"
        # None of the deprecated inline blocks that would bypass the separate resources.
        for inline in ("lifecycleRules", "versioning", "policy", "acl", "grants"):
            assert inline not in b.inputs, f"{b.urn}: inline {inline}"


def test_checker_catches_a_lifecycle_that_outlives_the_sunset(
    prod_settings: Settings, prod_synth: Synth
) -> None:
    """_last_day must move when the lifecycle moves, or the tests above prove nothing."""
    site = prod_settings.legacy_sites[0]
    bucket = site.buckets[0]
    lc = next(
        r for r in prod_synth.of_type(LIFECYCLE) if site_of(r) == site.name and r.inputs["bucket"] == bucket
    )
    rules = [dict(r) for r in lc.inputs["rules"]]
    for r in rules:
        if r.get("noncurrentVersionExpiration"):
            r["noncurrentVersionExpiration"] = {"noncurrentDays": 365.0}
    broken = Synth(
        [
            *(x for x in prod_synth.resources if x is not lc),
            dataclasses.replace(lc, inputs={**lc.inputs, "rules": rules}),
        ],
        None,
    )
    assert _last_day(broken, site.name, bucket) > site.sunset


def _site_settings(
    prod: Settings, sunset: date, noncurrent: int, mode: str
) -> tuple[Settings, LegacyBackupArgs]:
    site = dataclasses.replace(
        prod.legacy_sites[0],
        sunset=sunset,
        mode=mode,
        writer="arn:aws:iam::000000000000:user/w" if mode == "replica" else None,
    )
    s = dataclasses.replace(prod, legacy_sites=(site,))
    args = dataclasses.replace(backup_args(s, site), tags={}, protect=True, noncurrent_days=noncurrent)
    return s, args


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days_ahead=st.integers(min_value=0, max_value=3650),
    noncurrent=st.integers(min_value=1, max_value=365),
    mode=st.sampled_from(["replica", "frozen"]),
)
def test_any_sunset_and_retention_still_end_on_the_sunset(
    prod_settings: Settings, days_ahead: int, noncurrent: int, mode: str
) -> None:
    import pulumi

    from components.legacy_backup import LegacyBackup
    from stacks.legacy import site_provider

    s, args = _site_settings(
        prod_settings, prod_settings.today + timedelta(days=days_ahead), noncurrent, mode
    )
    site = s.legacy_sites[0]

    def program() -> None:
        LegacyBackup(site.name, args, pulumi.ResourceOptions(provider=site_provider(site)))

    result = synth(program)
    assert result.error is None, result.error
    for bucket in (*site.buckets, f"{site.name}-access-logs"):
        assert _last_day(result, site.name, bucket) == site.sunset, f"{bucket}: {args}"


def test_build_uses_the_sites_sunset(prod_settings: Settings) -> None:
    s, _ = _site_settings(prod_settings, date(2027, 2, 14), 30, "frozen")
    result = synth(lambda: build_legacy_sites(s))
    assert result.error is None, result.error
    site = s.legacy_sites[0]
    assert _last_day(result, site.name, site.buckets[0]) == date(2027, 2, 14)
