"""One explicit aws.Provider per site, pointed at the site; nothing on a default provider."""

from __future__ import annotations

from datetime import date

import pulumi
import pulumi_aws as aws
import pytest

from components.legacy_backup import LegacyBackup, LegacyBackupArgs
from stacks.settings import Settings
from tests.legacy.conftest import Synth, site_of, synth

PROVIDER = "pulumi:providers:aws"
# Inputs that would put credentials (or a credential source) into the program or its state.
CREDENTIAL_INPUTS = {"accessKey", "secretKey", "token", "sharedCredentialsFiles", "assumeRoles"}


def _providers(s: Synth) -> dict[str, dict[str, object]]:
    return {r.name: r.inputs for r in s.of_type(PROVIDER)}


@pytest.mark.parametrize("which", ["prod", "staging"])
def test_one_provider_per_site_with_endpoint_and_flags(
    which: str, request: pytest.FixtureRequest, prod_settings: Settings, staging_settings: Settings
) -> None:
    s: Synth = request.getfixturevalue(f"{which}_synth")
    settings = prod_settings if which == "prod" else staging_settings
    providers = _providers(s)
    assert set(providers) == {f"{site.name}-s3" for site in settings.legacy_sites}
    for site in settings.legacy_sites:
        p = s.one(PROVIDER, f"{site.name}-s3")
        assert p.json_input("endpoints") == [{"s3": site.endpoint}], p.urn
        assert p.inputs["region"] == site.aws_region, p.urn
        assert p.json_input("s3UsePathStyle") is True, p.urn
        for flag in (
            "skipCredentialsValidation",
            "skipRegionValidation",
            "skipRequestingAccountId",
            "skipMetadataApiCheck",
        ):
            assert p.json_input(flag) is True, f"{p.urn}: {flag}"
        # Credentials come from the site's profile, never from the program or the stack file.
        assert p.inputs["profile"] == site.name, p.urn
        assert not CREDENTIAL_INPUTS & set(p.inputs), f"{p.urn}: {sorted(CREDENTIAL_INPUTS & set(p.inputs))}"


def test_every_s3_resource_uses_its_own_sites_provider(prod_synth: Synth) -> None:
    provider_urn = {r.name.removesuffix("-s3"): r.urn for r in prod_synth.of_type(PROVIDER)}
    s3 = [r for r in prod_synth.resources if r.type.startswith("aws:")]
    assert s3, "no S3 resources registered"
    for r in s3:
        assert r.provider, f"{r.urn} has no explicit provider: it would fall back to the default one"
        urn = r.provider.rsplit("::", 1)[0]
        assert urn == provider_urn[site_of(r)], f"{r.urn} uses {r.provider}, not its site's provider"


def test_no_default_provider_and_no_invokes_even_without_disable_default_providers(prod_synth: Synth) -> None:
    # EchoMocks.call raises on any invoke (an account-id lookup, a region lookup...): none happen.
    assert prod_synth.error is None
    assert all(r.type != PROVIDER or r.name.endswith("-s3") for r in prod_synth.resources)


def _args() -> LegacyBackupArgs:
    return LegacyBackupArgs(
        site="site-a",
        country="US",
        mode="frozen",
        writer=None,
        restore_principal="arn:aws:iam::000000000000:role/us-restore",
        deployer="arn:aws:iam::000000000000:role/legacy-deployer",
        sunset=date(2027, 3, 31),
        buckets=("backups",),
    )


def test_component_refuses_to_run_without_an_aws_provider() -> None:
    result = synth(lambda: LegacyBackup("site-a", _args()))
    assert isinstance(result.error, ValueError)
    assert "explicit aws.Provider" in str(result.error)
    assert result.resources == []


def test_component_refuses_a_provider_of_another_package() -> None:
    def program() -> None:
        other = pulumi.ProviderResource("oci", "oci-region", {})
        LegacyBackup("site-a", _args(), pulumi.ResourceOptions(provider=other))

    result = synth(program)
    assert isinstance(result.error, ValueError)
    assert not [r for r in result.resources if r.type.startswith("aws:") or r.type.startswith("usdr:")]


@pytest.mark.parametrize("form", ["provider", "providers-list", "providers-map"])
def test_component_accepts_the_provider_in_any_opts_form(form: str) -> None:
    def program() -> None:
        p = aws.Provider("site-a-s3", region="us-east-1", skip_credentials_validation=True)
        opts = {
            "provider": pulumi.ResourceOptions(provider=p),
            "providers-list": pulumi.ResourceOptions(providers=[p]),
            "providers-map": pulumi.ResourceOptions(providers={"aws": p}),
        }[form]
        LegacyBackup("site-a", _args(), opts)

    result = synth(program)
    assert result.error is None, result.error
    provider = result.one(PROVIDER, "site-a-s3")
    children = [r for r in result.resources if r.type.startswith("aws:")]
    assert children
    for r in children:
        assert r.provider.rsplit("::", 1)[0] == provider.urn, f"{r.urn} uses {r.provider}"
