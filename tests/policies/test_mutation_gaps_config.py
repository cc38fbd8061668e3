"""The pack's config as the CLI delivers it (issue 20, docs/mutation-testing.md): the values
arrive decoded from the wire (a protobuf Struct, JSON here), so a string equal to "replica" is not
the interned literal of the source; a rule that compared by identity would pass every case
written as a Python literal and miss every real config."""

from __future__ import annotations

import json

import pytest
from pack_config import ConfigError, parse_config

SITE = {
    "name": "legacy-sg",
    "endpoint": "https://s3.ap-southeast-1.amazonaws.com",
    "awsRegion": "ap-southeast-1",
    "country": "SG",
    "sunset": "2027-06-30",
    "restorePrincipal": "arn:aws:iam::123456789012:role/usdr-restore",
}


def _decoded(mode: str, writer: str | None) -> dict[str, object]:
    """The config as decoded text: no value is a literal of this file."""
    text = json.dumps({"legacySites": [{**SITE, "mode": mode, "writer": writer}]})
    decoded: dict[str, object] = json.loads(text)
    return decoded


@pytest.mark.parametrize(
    ("mode", "writer", "message"),
    [
        ("replica", None, "legacySites[0].writer: mode replica needs the replication writer"),
        (
            "frozen",
            "arn:aws:iam::123456789012:user/writer",
            "legacySites[0].writer: mode frozen has no writer",
        ),
    ],
)
def test_a_decoded_site_mode_is_checked_against_its_writer(
    mode: str, writer: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_decoded(mode, writer))
    assert str(err.value) == message


def test_a_decoded_site_that_is_right_is_read() -> None:
    cfg = parse_config(_decoded("replica", "arn:aws:iam::123456789012:user/writer"))
    assert [s.mode for s in cfg.legacy_sites] == ["replica"]


@pytest.mark.parametrize("deployer", ["   ", 5, ["arn:aws:iam::123456789012:role/deployer"]])
def test_a_deployer_that_is_not_text_is_refused_in_one_line(deployer: object) -> None:
    """The deployer is exempt from the writers' rule (legacy-replica-writers): a blank or a
    non-text one is refused by name, never read as "no deployer" or left to fail later."""
    raw = _decoded("replica", "arn:aws:iam::123456789012:user/writer")
    sites = raw["legacySites"]
    assert isinstance(sites, list)
    sites[0]["deployer"] = deployer
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert str(err.value) == "legacySites[0].deployer: must be text or null"
