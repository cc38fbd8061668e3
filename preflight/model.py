"""The records preflight passes between its stages: synth -> analyze/checkov -> report/diff.

Everything here is plain data (JSON-serialisable through `to_dict`), so reports, the
attestation and PR diffs are built from the same objects, and a synth result can be saved
and compared later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Enforcement = Literal["mandatory", "advisory", "disabled"]
Severity = Literal["low", "medium", "high", "critical"]


@dataclass
class ResourceRecord:
    """One registered resource, as the program declared it."""

    urn: str  # engine-style URN (not the mock monitor's)
    type: str  # type token, e.g. oci:ObjectStorage/bucket:Bucket
    name: str  # logical name
    custom: bool  # False for ComponentResources and the stack
    parent: str | None  # parent URN (engine-style); None only for the stack itself
    provider: str | None  # provider reference "urn::id" (explicit or default provider)
    region: str | None  # effective region: provider's region, else oci:region/aws:region; None = unknown
    region_source: Literal["provider", "stack-config", "field", "none"]
    inputs: dict[str, Any]  # wire (camelCase) inputs, secrets already masked
    outputs: dict[str, Any]  # deterministic mock outputs
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    location: str | None = None  # "relative/file.py:LINE" of the Python that declared it
    id: str | None = None  # mock physical id (custom resources)
    # Other resource options as registered (wire names): ignoreChanges, deleteBeforeReplace,
    # replaceOnChanges, retainOnDelete, additionalSecretOutputs, aliases, deletedWith, import.
    options: dict[str, Any] = field(default_factory=dict)
    # Why the engine's view of this resource needs something that cannot run offline (a remote
    # component's Construct, a dynamic provider's create); None when it can be judged.
    unevaluable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict for serialising; nested values are the record's own (not copies:
        `asdict` deep-copied every input of every resource, most of a large report's time)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Finding:
    """A policy result about one resource (or the stack, urn = stack URN)."""

    source: str  # policy pack name, or "checkov"
    policy: str  # policy name or checkov check id
    enforcement: Enforcement
    severity: Severity
    urn: str
    type: str
    name: str
    region: str | None
    message: str
    location: str | None
    waiver: str | None = None  # the waiver target that downgraded it, if any
    suppressed: str | None = None  # reason from the suppressions file (checkov only)

    @property
    def blocking(self) -> bool:
        return self.enforcement == "mandatory" and self.suppressed is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
