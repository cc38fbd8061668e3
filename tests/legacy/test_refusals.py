"""Bad legacy input is refused naming the site, before any resource registers.

Each case runs the whole chain as `__main__.py` does (stack config -> settings -> legacy sites)
under mocks, and checks both the message and that the monitor saw zero registrations.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from components.legacy_backup import LegacyBackupArgs
from stacks.legacy import build_legacy_sites
from stacks.settings import Settings, SettingsError, parse_settings, stack_config_from_file
from tests.conftest import ROOT, TODAY
from tests.legacy.conftest import Synth, site_of, synth

SITES = "us-data-residency:legacySites"
WAIVERS = "us-data-residency:waivers"


def _prod_config() -> dict[str, Any]:
    return copy.deepcopy(stack_config_from_file(ROOT / "Pulumi.prod.yaml"))


def _run(config: dict[str, Any], today: date = TODAY) -> Synth:
    def program() -> None:
        settings = parse_settings(config, source="Pulumi.prod.yaml", stack="prod", today=today)
        build_legacy_sites(settings)

    return synth(program)


def _refused(result: Synth, *fragments: str) -> list[str]:
    assert isinstance(result.error, SettingsError), f"expected a SettingsError, got {result.error!r}"
    assert result.resources == [], f"registered before refusing: {[r.urn for r in result.resources]}"
    lines = str(result.error).splitlines()
    matching = [line for line in lines if all(f in line for f in fragments)]
    assert matching, f"no line with {fragments} in:\n{result.error}"
    return matching


def _without_sg_waiver(c: dict[str, Any]) -> None:
    c[WAIVERS] = [w for w in c[WAIVERS] if w["target"] != "legacy-sg"]


def _replica_without_writer(c: dict[str, Any]) -> None:
    del c[SITES]["legacy-us-east"]["writer"]


def _replica_past_sunset(c: dict[str, Any]) -> None:
    c[SITES]["legacy-us-east"]["sunset"] = "2026-11-28"


CASES: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[str, ...]]] = {
    "sg-without-waiver": (_without_sg_waiver, (f"{SITES}.legacy-sg:", "needs a waiver")),
    "replica-without-writer": (_replica_without_writer, (f"{SITES}.legacy-us-east.writer:",)),
    "replica-past-sunset": (_replica_past_sunset, (f"{SITES}.legacy-us-east.sunset:", "has passed")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_site_is_refused_by_settings_naming_it_with_zero_resources(case: str) -> None:
    mutate, fragments = CASES[case]
    config = _prod_config()
    mutate(config)
    for line in _refused(_run(config), *fragments):
        assert line.startswith("Pulumi.prod.yaml: "), line


def test_sg_site_with_an_expired_waiver_is_refused() -> None:
    # The day after the waiver (and the frozen SG site's sunset): the SG site must go.
    result = _run(_prod_config(), today=date(2027, 7, 1))
    _refused(result, f"{SITES}.legacy-sg:", "expired on 2027-06-30")


def test_the_unchanged_prod_config_builds() -> None:
    """The baseline every refusal above changes in exactly one place."""
    result = _run(_prod_config())
    assert result.error is None, result.error
    assert {r.name for r in result.of_type("usdr:legacy:LegacyBackup")} == {"legacy-us-east", "legacy-sg"}


# ------------------------------------------------------------------ the Singapore site and its waiver


def test_singapore_site_appears_only_with_its_waiver(prod_settings: Settings, prod_synth: Synth) -> None:
    sg = next(s for s in prod_settings.legacy_sites if not s.is_us)
    waiver = prod_settings.waiver_for(sg.name)
    assert waiver is not None and waiver.active(prod_settings.today)
    buckets = [r for r in prod_synth.of_type("aws:s3/bucket:Bucket") if site_of(r) == sg.name]
    assert buckets, "the SG site is missing from prod"
    for b in buckets:
        assert b.inputs["tags"]["residency-waiver-expires"] == waiver.expires.isoformat(), b.urn
        assert b.inputs["tags"]["country"] == "SG", b.urn
    # US sites carry no waiver tag: nothing claims an exception it does not have.
    us = [r for r in prod_synth.of_type("aws:s3/bucket:Bucket") if site_of(r) != sg.name]
    assert us and all("residency-waiver-expires" not in r.inputs["tags"] for r in us)


@pytest.mark.parametrize(
    "break_it", ["no-waiver", "expired-waiver", "replica-no-writer", "replica-past-sunset"]
)
def test_build_refuses_settings_that_bypassed_the_loader(prod_settings: Settings, break_it: str) -> None:
    """Settings assembled without the loader (a script, a test) get the same refusals."""
    s = prod_settings
    us, sg = s.legacy_sites
    if break_it == "no-waiver":
        s, site, fragment = dataclasses.replace(s, waivers=()), sg.name, "needs a waiver"
    elif break_it == "expired-waiver":
        s, site, fragment = dataclasses.replace(s, today=date(2027, 7, 1)), sg.name, "expired"
    elif break_it == "replica-no-writer":
        broken = dataclasses.replace(us, writer=None)
        s, site, fragment = dataclasses.replace(s, legacy_sites=(broken, sg)), us.name, "writer"
    else:
        broken = dataclasses.replace(us, sunset=date(2026, 11, 1))
        s, site, fragment = dataclasses.replace(s, legacy_sites=(broken, sg)), us.name, "has passed"
    result = synth(lambda: build_legacy_sites(s))
    _refused(result, f"legacySites.{site}", fragment)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"country": "SG"}, "needs a waiver"),
        ({"mode": "replica"}, "writer"),
        ({"writer": "arn:aws:iam::000000000000:user/x"}, "frozen has no writer"),
        ({"mode": "read-write"}, "not one of"),
        ({"buckets": ()}, "at least one bucket"),
        ({"buckets": ("a", "a")}, "duplicate"),
        ({"buckets": ("site-a-access-logs",)}, "reserved"),
        ({"noncurrent_days": 0}, "noncurrent_days"),
        ({"sse_algorithm": "none"}, "sse_algorithm"),
        ({"kms_key_id": "key"}, "kms_key_id"),
        ({"deployer": ""}, "deployer principal is required"),
        ({"deployer": "arn:aws:iam::000000000000:role/us-restore"}, "deployer must differ"),
    ],
)
def test_args_refuse_unsafe_values_naming_the_site(change: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "site": "site-a",
        "country": "US",
        "mode": "frozen",
        "writer": None,
        "restore_principal": "arn:aws:iam::000000000000:role/us-restore",
        "deployer": "arn:aws:iam::000000000000:role/legacy-deployer",
        "sunset": date(2027, 3, 31),
        "buckets": ("backups",),
    }
    LegacyBackupArgs(**base)  # the baseline is accepted
    with pytest.raises(ValueError, match=message) as err:
        LegacyBackupArgs(**{**base, **change})
    assert "legacy site site-a" in str(err.value)
