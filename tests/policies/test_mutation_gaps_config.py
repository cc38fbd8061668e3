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


def test_within_an_analyzer_call_each_config_is_read_as_itself() -> None:
    """In the pack runtime (pack_runtime._per_call: every Analyze/AnalyzeStack call) load_config
    remembers a config by the identity of its values, as the SDK hands each policy a fresh dict
    of the same parsed objects. The memo must answer the same config for those, and never for a
    config of other values (a pack reconfigured in place: Configure between two calls). Before
    this test only the runtime's replay of prod reached the memo, outside pack_config's mutation
    run: `hit is not None` as `is None` (2026-12-04 survivor, pack_config.py 675) raised on the
    first call of every analyzer request."""
    from pack_config import PackConfig, load_config
    from pack_runtime import _per_call

    def call(raw: dict[str, object]) -> PackConfig:
        cfg: PackConfig = _per_call(lambda _self, _request, _context: load_config(raw))(None, None, None)
        return cfg

    ashburn = json.loads('{"homeRegion": "us-ashburn-1"}')
    phoenix = json.loads('{"homeRegion": "us-phoenix-1"}')
    first = call(ashburn)
    assert first.home_region == "us-ashburn-1"
    assert call(dict(ashburn)) is first, "the same value objects: the remembered config"
    assert call(phoenix).home_region == "us-phoenix-1"
    assert call(dict(phoenix)).home_region == "us-phoenix-1"
    assert call(ashburn) is first
