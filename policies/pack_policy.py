"""How a policy module becomes a CrossGuard policy: metadata, fail-closed guard, waivers.

A policy module holds its metadata (`META`), a pure check over plain data (`check`) and
the CrossGuard object built from both (`POLICY`). Tests call `POLICY.validate` exactly as
the analyzer server does.

Fail closed. A check that raises (a bug, a config error, an unexpected prop shape) must
never look like a pass:
- a mandatory policy reports a mandatory violation "could not evaluate ...", so the other
  findings of the same Analyze call still reach the caller;
- a non-mandatory policy re-raises, which fails the whole Analyze RPC (the CLI stops and
  preflight exits 3): an advisory note is not a way to swallow a crash.
The SDK's own handling of `UnknownValueError` (an advisory "can't run during preview") is
pre-empted the same way, because props are read as plain data with an UNKNOWN marker.

Waivers. CrossGuard fixes a policy's enforcement level per policy, not per finding, so a
waived finding cannot be "the same policy, but advisory". Instead: a waivable (mandatory)
residency policy skips a finding an *active* waiver covers, and the advisory policy
`residency-waived` reports exactly those findings, naming the waiver. Once the waiver has
expired, the mandatory policy reports the finding again and says the waiver expired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pack_config import CONFIG_SCHEMA, ConfigError, PackConfig, Waiver, load_config
from pack_runtime import declare_types, remember
from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from resource_props import Resource

MANDATORY: Final = EnforcementLevel.MANDATORY
ADVISORY: Final = EnforcementLevel.ADVISORY
CIS_NAME: Final = "CIS Oracle Cloud Infrastructure Foundations Benchmark"
CIS_VERSION: Final = "2.0.0"
USDR_NAME: Final = "us-data-residency controls"


@dataclass(frozen=True)
class Meta:
    """Everything a reader of a finding or of docs/residency-controls.md needs."""

    name: str  # policy id, unique in the pack
    control: str  # USDR-RES-01 ... (docs/residency-controls.md)
    title: str  # display name
    description: str
    enforcement: EnforcementLevel
    severity: Severity
    remediation: str
    types: tuple[str, ...] = ()  # type tokens or prefixes ("oci:"), "*" = every type; () = stack policy
    cis: str | None = None  # CIS OCI Foundations recommendation this implements
    waivable: bool = False
    # Type prefixes left out of `types` (with "*": every type but these). Told to the pack's
    # runtime (declare_types), so a policy for the few unusual types costs nothing per resource
    # on the thousands of ordinary ones.
    except_types: tuple[str, ...] = ()

    def applies_to(self, resource_type: str) -> bool:
        if self.except_types and resource_type.startswith(self.except_types):
            return False
        return any(
            t == "*" or resource_type == t or (t.endswith((":", "/")) and resource_type.startswith(t))
            for t in self.types
        )

    @property
    def framework(self) -> PolicyComplianceFramework:
        if self.cis:
            return PolicyComplianceFramework(
                name=CIS_NAME, version=CIS_VERSION, reference=self.cis, specification=self.control
            )
        return PolicyComplianceFramework(
            name=USDR_NAME, version="1", reference=self.control, specification="docs/residency-controls.md"
        )

    @property
    def group(self) -> str:
        return self.name.split("-", 1)[0]


@dataclass(frozen=True)
class Finding:
    """One violation of a resource policy. `site`: the legacy site it is at (waivers may name it)."""

    message: str
    site: str | None = None


ResourceCheck = Callable[[Resource, PackConfig], Iterable[Finding]]
StackCheck = Callable[[Sequence[Resource], PackConfig], Iterable[tuple[str, str]]]


class PolicyEvaluationError(RuntimeError):
    """A non-mandatory policy could not evaluate: raised so the Analyze RPC fails visibly."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConfigError):
        return f"pack configuration invalid: {exc}"
    detail = getattr(exc, "message", None) or str(exc) or repr(exc)
    return f"policy error ({type(exc).__name__}: {detail})"


def _fail(meta: Meta, report: ReportViolation, exc: BaseException) -> None:
    what = _describe(exc)
    if meta.enforcement is MANDATORY:
        report(f"could not evaluate, failing closed: {what}", None)
        return
    raise PolicyEvaluationError(f"{meta.name}: {what}") from exc


def waiver_covering(res: Resource, finding: Finding, cfg: PackConfig) -> Waiver | None:
    return cfg.waiver_for(res.urn, res.name, finding.site)


def _found(check: ResourceCheck, res: Resource, cfg: PackConfig) -> list[Finding]:
    """`check(res, cfg)`, once per analyzer call: `residency-waived` asks every waivable policy's
    check again about the same resource (same `Resource` and `PackConfig` objects in a call)."""
    seen_cfg, found = remember(check, res, lambda: (cfg, list(check(res, cfg))))
    return found if seen_cfg is cfg else list(check(res, cfg))


def mandatory_findings(meta: Meta, check: ResourceCheck, res: Resource, cfg: PackConfig) -> list[str]:
    """The messages the policy itself reports: active waivers skip, expired ones are named."""
    out: list[str] = []
    for f in _found(check, res, cfg):
        w = waiver_covering(res, f, cfg) if meta.waivable else None
        if w is not None and w.active(cfg.today):
            continue
        if w is not None:
            out.append(
                f"{f.message} (waiver {w.target!r} expired on {w.expires}: the finding is mandatory again)"
            )
        else:
            out.append(f.message)
    return out


def waived_findings(
    meta: Meta, check: ResourceCheck, res: Resource, cfg: PackConfig
) -> list[tuple[Finding, Waiver]]:
    """The findings an active waiver covers (what `residency-waived` reports as advisory)."""
    if not meta.waivable:
        return []
    out = []
    for f in _found(check, res, cfg):
        w = waiver_covering(res, f, cfg)
        if w is not None and w.active(cfg.today):
            out.append((f, w))
    return out


def _tags(meta: Meta) -> list[str]:
    return [meta.control, meta.group, *([f"CIS-OCI-{meta.cis}"] if meta.cis else [])]


def _metadata(meta: Meta) -> dict[str, Any]:
    """What every policy of the pack declares about itself, resource or stack policy alike."""
    return {
        "name": meta.name,
        "description": meta.description,
        "enforcement_level": meta.enforcement,
        "config_schema": PolicyConfigSchema(properties=CONFIG_SCHEMA),
        "display_name": meta.title,
        "severity": meta.severity,
        "framework": meta.framework,
        "tags": _tags(meta),
        "remediation_steps": meta.remediation,
    }


def resource_policy(meta: Meta, check: ResourceCheck) -> ResourceValidationPolicy:
    """A resource policy running `check` on every resource `meta.types` covers, fail-closed."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not meta.applies_to(args.resource_type):
            return
        messages: list[str] = []
        try:
            cfg = load_config(args.get_config())
            messages = mandatory_findings(meta, check, Resource.from_args(args), cfg)
        except Exception as exc:
            _fail(meta, report, exc)
        for m in messages:
            report(m, None)

    policy = ResourceValidationPolicy(validate=validate, **_metadata(meta))
    return declare_types(policy, meta.applies_to)  # validate's first line, told to the runtime


def stack_policy(meta: Meta, check: StackCheck) -> StackValidationPolicy:
    """A stack policy running `check` over all resources, fail-closed; findings name a URN."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        found: list[tuple[str, str]] = []
        try:
            cfg = load_config(args.get_config())
            resources = [Resource.from_policy_resource(r) for r in args.resources]
            found = list(check(resources, cfg))
        except Exception as exc:
            _fail(meta, report, exc)
        for urn, message in found:
            report(message, urn or None)

    return StackValidationPolicy(validate=validate, **_metadata(meta))
