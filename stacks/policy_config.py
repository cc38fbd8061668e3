"""The policy pack's config, generated from a stack's settings (one source of truth).

    python -m stacks.policy_config --stack prod [--out FILE] [--project-dir DIR] [--config-file FILE]

prints the JSON `pulumi preview --policy-pack policies --policy-pack-config FILE` takes:
`{"<policy name>": {<properties>}, ...}`. CrossGuard hands each policy only its own
entry, so the same properties (region catalogue, allowed and opt-in regions, realm, home
region, access-team groups, legacy sites, waivers, data subnets) are written under every
policy the pack declares. A stack with `protectData: false` also gets
`"stack-data-protected": {"enforcementLevel": "advisory", ...}`: the settings, not the pack,
decide that a stack's data may be deleted.

Callers of the analyzer protocol (preflight) must not pass this JSON to Configure as it is:
Configure *replaces* every policy's enforcement level, and a policy missing from the request
(or sent without a level) would silently run as advisory. `configure_request()` does what
the CLI does instead: start from GetAnalyzerInfo's policies, their levels and schema
defaults, apply `all`, then the per-policy entries.

Bad input (unknown stack, invalid settings) -> one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from stacks.settings import Settings, SettingsError, load_settings_file

ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = ROOT / "policies"
POLICY_GROUPS = ("residency", "security", "lifecycle")
ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
EXIT_BAD_INPUT = 2


class PolicyConfigError(ValueError):
    """The pack config cannot be produced (or applied): a one-line message."""


# --------------------------------------------------------------------------- properties


def pack_properties(settings: Settings) -> dict[str, Any]:
    """The properties every policy of the pack reads, from validated stack settings."""
    cat = settings.catalogue
    home = cat.lookup(settings.tenancy.home_region)
    team = settings.access_team
    return {
        "catalogue": cat.to_data(),
        "allowedRegions": [r.identifier for r in settings.approved_regions],
        "optInRegions": list(settings.tenancy.opt_in_regions),
        "realm": home.realm if home is not None else None,
        "homeRegion": settings.tenancy.home_region,
        "accessTeam": {"admins": [team.admins], "operators": [team.operators], "auditors": [team.auditors]},
        "legacySites": [
            {
                "name": s.name,
                "endpoint": s.endpoint,
                "awsRegion": s.aws_region,
                "country": s.country,
                "mode": s.mode,
                "writer": s.writer,
                "restorePrincipal": s.restore_principal,
                "deployer": s.deployer,
                "sunset": s.sunset.isoformat(),
            }
            for s in settings.legacy_sites
        ],
        "waivers": [
            {"target": w.target, "owner": w.owner, "reason": w.reason, "expires": w.expires.isoformat()}
            for w in settings.waivers
        ],
        "dataSubnets": {r.identifier: [str(r.subnets.data)] for r in settings.regions},
        "usDataCompartments": [
            settings.compartments.us_data,
            settings.compartments.network,
            settings.compartments.security,
        ],
        "nonUsSourceCidrs": [str(n) for n in team.network_sources.non_us],
        # The service principals the estate grants to (residency-iam-statements): Object Storage
        # of each approved region (customer keys, replication), and Cloud Guard when enabled
        # (components/threat_detection.py SERVICE_STATEMENTS).
        "allowedServices": [f"objectstorage-{r.identifier}" for r in settings.approved_regions]
        + (["cloudguard"] if settings.threat_detection.cloud_guard else []),
    }


def pack_config(settings: Settings, policy_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """`--policy-pack-config` JSON: the shared properties under every policy name."""
    props = pack_properties(settings)
    props = {k: v for k, v in props.items() if v is not None}
    out: dict[str, dict[str, Any]] = {name: dict(props) for name in sorted(policy_names)}
    if not settings.protect_data and "stack-data-protected" in out:
        out["stack-data-protected"]["enforcementLevel"] = "advisory"
    return out


# --------------------------------------------------------------------------- the pack's policies


def load_policies(pack_dir: Path = PACK_DIR) -> list[Any]:
    """The pack's policy objects: every `POLICY` of the modules in its policy groups.

    Imported the way the CLI runs the pack (its directory on sys.path, where it stays: the
    modules import each other by those names); `__main__.py` is never imported (it starts
    the analyzer server).
    """
    pack = str(pack_dir.resolve())
    if pack not in sys.path:
        sys.path.insert(0, pack)
    try:
        policies: list[Any] = []
        for group in POLICY_GROUPS:
            folder = pack_dir / group
            for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
                module = importlib.import_module(f"{group}.{info.name}")
                policy = getattr(module, "POLICY", None)
                if policy is not None:
                    policies.append(policy)
        return policies
    except Exception as exc:
        raise PolicyConfigError(f"{pack_dir}: cannot load the policy pack's modules: {exc}") from None


def policy_names(pack_dir: Path = PACK_DIR) -> list[str]:
    """Names of the pack's policies (see `load_policies`)."""
    return [str(p.name) for p in load_policies(pack_dir)]


# --------------------------------------------------------------------------- analyzer protocol


def reconcile(analyzer_info: Any, config: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """What the CLI sends to Configure: per policy (enforcement level, properties).

    Mirrors the CLI's ReconcilePolicyPackConfig: every policy of GetAnalyzerInfo with its
    declared level and its schema defaults, then `all` (a level for every policy), then each
    policy's entry (its `enforcementLevel`, its properties merged over the defaults).
    """
    from google.protobuf import json_format
    from pulumi.runtime.proto import analyzer_pb2

    def level_name(value: int) -> str:
        return str(analyzer_pb2.EnforcementLevel.Name(value)).lower()

    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for p in analyzer_info.policies:
        schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        defaults = {k: v["default"] for k, v in schema.items() if isinstance(v, dict) and "default" in v}
        result[p.name] = (level_name(p.enforcementLevel), defaults)

    def level_of(value: Any, where: str) -> str:
        if value not in ENFORCEMENT_LEVELS:
            raise PolicyConfigError(f"{where}: {value!r} is not one of {', '.join(ENFORCEMENT_LEVELS)}")
        return str(value)

    if "all" in config:
        entry = config["all"]
        level = entry if isinstance(entry, str) else (entry or {}).get("enforcementLevel")
        if level is not None:
            level = level_of(level, "all")
            result = {k: (level, v) for k, (_, v) in result.items()}
    for name, entry in config.items():
        if name == "all":
            continue
        if name not in result:
            raise PolicyConfigError(f"{name}: the policy pack has no such policy")
        level, props = result[name]
        if isinstance(entry, str):
            level = level_of(entry, name)
        elif isinstance(entry, Mapping):
            entry = dict(entry)
            if "enforcementLevel" in entry:
                level = level_of(entry.pop("enforcementLevel"), f"{name}.enforcementLevel")
            props = {**props, **entry}
        else:
            raise PolicyConfigError(f"{name}: must be an enforcement level or an object")
        result[name] = (level, props)
    return result


def configure_request(analyzer_info: Any, config: Mapping[str, Any]) -> Any:
    """The ConfigureAnalyzerRequest for `Configure`, reconciled like the CLI (see `reconcile`)."""
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2

    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, (level, props) in reconcile(analyzer_info, config).items():
        struct = struct_pb2.Struct()
        struct.update(props)
        request.policyConfig[name].CopyFrom(
            analyzer_pb2.PolicyConfig(
                enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper()),
                properties=struct,
            )
        )
    return request


# --------------------------------------------------------------------------- CLI


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a PolicyConfigError (one line), not usage text and exit."""

    def error(self, message: str) -> NoReturn:
        raise PolicyConfigError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m stacks.policy_config",
        description="Write the policy pack config (for --policy-pack-config) from a stack's settings.",
    )
    p.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the Pulumi project (default: .)")
    p.add_argument("--config-file", type=Path, help="use this stack file instead of Pulumi.<stack>.yaml")
    p.add_argument(
        "--policy-pack", type=Path, default=PACK_DIR, help="the pack directory (default: policies/)"
    )
    p.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        stack_file = args.config_file or (args.project_dir / f"Pulumi.{args.stack}.yaml")
        settings = load_settings_file(stack_file, stack=args.stack)
        config = pack_config(settings, policy_names(args.policy_pack))
        text = json.dumps(config, indent=2, sort_keys=True) + "\n"
        if args.out:
            args.out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    except SettingsError as exc:
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        print(f"policy_config: {exc.problems[0]}{more}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (PolicyConfigError, OSError) as exc:
        print(f"policy_config: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
