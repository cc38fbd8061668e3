"""Synthesis: run a Pulumi Python program in-process under mocks and record every resource.

The program is the real one (`Pulumi.yaml` `main:`), run the way the Python language host
runs it (`run_in_stack`, cwd = project dir, program dir first on sys.path, config in
`PULUMI_CONFIG` and the runtime's config map). Only the engine is replaced: a recording
monitor (a `pulumi.runtime.mocks.MockMonitor` subclass) receives the raw
`RegisterResourceRequest`s, which carry what `MockResourceArgs` lacks (parent, provider
reference, dependencies, property dependencies, protect, source position).

What the monitor reproduces from the engine, because reports and policies depend on it:

* URNs are engine-style (`urn:pulumi:<stack>::<project>::<parent chain>$<type>::<name>`, the
  whole parent type chain, the stack's own type left out), and those are the URNs the program
  sees back, so parents, dependencies and provider references all use them.
* A custom resource without an explicit provider gets the package's default provider
  (`pulumi:providers:<pkg>::default[_<version>]`), whose inputs are the stack config of that
  package (`oci:region` -> `region`). `pulumi:disable-default-providers` is enforced like the
  engine does: such a resource is a program error.
* Effective region: an explicit provider's `region` input; for a default provider the stack
  config (`oci:region`, `aws:region`); an AWS resource's own `region` field wins (pulumi-aws 7
  has one); otherwise unknown (None).
* Mock outputs are deterministic: outputs = inputs + id, ids derived from the URN (OCI ids
  are OCID-shaped and carry the region, except tenancy-wide IAM/quota OCIDs, whose region
  segment is empty as in OCI; policies that read an OCID's region segment see real shapes).

The program runs as an update, not a preview (`is_dry_run()` is False): with mock outputs
every value is known, so `apply` callbacks run and the records hold the values a deployment
would send. What only a provider or the cloud could answer stays unknown (`[unknown]`): data
source invokes are answered with nothing (noted in `warnings`), and a program that treats an
empty answer as unknown (as this repository's components do) goes on with unknown values;
a policy that needs one of them cannot prove compliance and has to fail closed.

Secrets: `secure:` config values are placeholders (`[secret]`, see project.py) and any secret
value in inputs or outputs is recorded as `[secret]`. Nothing secret is ever stored.

Pulumi's runtime is process-global (settings, root stack, config). One synthesis runs at a
time per process (a lock), and each run installs fresh runtime settings, event loop and
config; while the program runs, modules imported earlier that its own top-level packages
would shadow in a fresh interpreter are set aside; afterwards cwd, sys.path, environment and
those modules are restored and the modules the program imported from its own directory are
dropped. So tests can synthesize several projects in one process.
`synthesize_isolated` runs synthesis in a fresh interpreter instead and streams the records
back: for callers that must not share modules at all (two checkouts of the same project, e.g.
a PR's base and head), and for `preflight plan|gate`, which gain a core for the policy pack's
requests and the program's memory back before checkov runs (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import inspect
import json
import os
import pickle
import runpy
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlparse

from google.protobuf import empty_pb2, struct_pb2

from preflight.catalogue import realm_of
from preflight.errors import EXIT_BAD_INPUT, BadInput, InternalFailure, PreflightError
from preflight.model import ResourceRecord
from preflight.project import SECRET_PLACEHOLDER, Project, StackConfig, load_project, load_stack_config

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
UNKNOWN_PLACEHOLDER = "[unknown]"

# Wire signatures of the property encoding (sdk/go/common/resource/properties.go).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a wire signature
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_GLOBAL_OCI = ("oci:Identity/", "oci:Limits/")
_LOCK = threading.Lock()
_PREFLIGHT_DIR = Path(__file__).resolve().parent  # never "the program's code", even in this repo
SCHEMA = 1


@dataclass
class SynthResult:
    project: str
    stack: str
    stack_urn: str
    resources: list[ResourceRecord]  # registration order, the stack first
    outputs: dict[str, Any]  # stack outputs, secrets masked
    config_source: str = ""  # the stack file that was read, relative to the project when inside it
    warnings: list[str] = field(default_factory=list)  # program warnings, invokes answered offline
    seconds: float = 0.0

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {r.urn: r for r in self.resources}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "project": self.project,
            "stack": self.stack,
            "stack_urn": self.stack_urn,
            "config_source": self.config_source,
            "resources": [r.to_dict() for r in self.resources],
            "outputs": self.outputs,
            "warnings": list(self.warnings),
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthResult:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InternalFailure(f"synth result: expected a mapping with schema {SCHEMA}")
        try:
            return cls(
                project=data["project"],
                stack=data["stack"],
                stack_urn=data["stack_urn"],
                config_source=data.get("config_source", ""),
                resources=[ResourceRecord(**r) for r in data["resources"]],
                outputs=dict(data.get("outputs") or {}),
                warnings=list(data.get("warnings") or []),
                seconds=float(data.get("seconds") or 0.0),
            )
        except (KeyError, TypeError) as exc:
            raise InternalFailure(f"synth result: malformed ({exc})") from None


# --------------------------------------------------------------------------- values


def plain(value: Any) -> Any:
    """A protobuf property value as plain JSON data: secrets masked, unknowns marked, refs as ids."""
    if isinstance(value, str):
        return UNKNOWN_PLACEHOLDER if value == _UNKNOWN else value
    if isinstance(value, struct_pb2.Struct):
        if _SIG in value:
            return _special(value)
        out = {}
        for k, v in value.items():
            p = plain(v)
            if p is not None:  # like the SDK: a null property is an absent one
                out[k] = p
        return out
    if isinstance(value, struct_pb2.ListValue):
        return [plain(v) for v in value]
    return value  # float, bool, None


def _special(value: struct_pb2.Struct) -> Any:
    sig = value[_SIG]
    if sig == _SECRET_SIG:
        return SECRET_PLACEHOLDER
    if sig == _RESOURCE_SIG:
        ident = value.get("id", "")
        return plain(ident) if ident else value["urn"]
    if sig == _OUTPUT_SIG:
        if value.get("secret"):
            return SECRET_PLACEHOLDER
        return plain(value["value"]) if "value" in value else UNKNOWN_PLACEHOLDER
    if sig == _ASSET_SIG:
        return {"asset": next((plain(value[k]) for k in ("path", "text", "uri") if k in value), None)}
    if sig == _ARCHIVE_SIG:
        return {"archive": next((plain(value[k]) for k in ("path", "uri", "assets") if k in value), None)}
    return {k: plain(v) for k, v in value.items() if k != _SIG}


# --------------------------------------------------------------------------- URNs and ids


def make_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """The engine's URN rule: the parent's whole qualified type chain, except the root stack's."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def package_of(type_: str) -> str:
    if type_.startswith(PROVIDER_PREFIX):
        return type_[len(PROVIDER_PREFIX) :]
    return type_.split(":", 1)[0]


def mock_id(urn: str, type_: str, region: str | None) -> str:
    digest = hashlib.sha256(urn.encode()).hexdigest()
    if type_.startswith(PROVIDER_PREFIX):
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    if type_.startswith("oci:"):
        kind = type_.rsplit(":", 1)[-1].lower()
        realm = realm_of(region) or "oc1"
        # IAM and quota OCIDs are tenancy-wide: OCI leaves their region segment empty.
        segment = "" if type_.startswith(_GLOBAL_OCI) else (region or "")
        return f"ocid1.{kind}.{realm}.{segment}.amaaaaaa{digest[:52]}"
    return f"{type_.rsplit(':', 1)[-1].lower()}-{digest[:16]}"


# --------------------------------------------------------------------------- monitor


class _Abort(Exception):
    """Raised inside a registration to stop the program; the real error is on the monitor."""


def _monitor_base() -> type[Any]:
    from pulumi.runtime.mocks import MockMonitor

    return MockMonitor


class _Mocks:
    """The `Mocks` the base monitor calls for reads and invokes (registrations never reach it)."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        return args.resource_id or mock_id(f"read:{args.typ}:{args.name}", args.typ, None), dict(args.inputs)

    def call(self, args: Any) -> dict[str, Any]:
        note = f"invoke {args.token} answered with nothing offline (data sources are not mocked)"
        if note not in self.warnings:
            self.warnings.append(note)
        return {}

    def register_transform(self, transform: Any) -> None:
        pass

    def register_invoke_transform(self, transform: Any) -> None:
        pass


class _Engine:
    """The Engine service the program logs to: collects warnings and errors."""

    def __init__(self, warnings: list[str], errors: list[str]) -> None:
        self.warnings = warnings
        self.errors = errors

    def Log(self, request: Any) -> empty_pb2.Empty:  # gRPC method name
        from pulumi.runtime.proto import engine_pb2

        msg = " ".join(str(request.message).split())
        if request.severity == engine_pb2.ERROR:
            self.errors.append(msg)
        elif request.severity == engine_pb2.WARNING:
            self.warnings.append(msg)
        return empty_pb2.Empty()


class RecordingMonitor(_monitor_base()):  # type: ignore[misc]
    """A MockMonitor that answers with engine-style URNs and records every registration."""

    def __init__(
        self,
        project: Project,
        stack: str,
        config: StackConfig,
        on_resource: Callable[[ResourceRecord], None] | None,
        warnings: list[str],
    ) -> None:
        super().__init__(_Mocks(warnings))
        self.project = project
        self.stack = stack
        self.config = config
        self.on_resource = on_resource
        self.records: list[ResourceRecord] = []
        self.by_urn: dict[str, ResourceRecord] = {}
        self.providers: dict[str, ResourceRecord] = {}  # "urn::id" -> provider record
        self.default_providers: dict[str, str] = {}  # package -> "urn::id"
        self.stack_urn = ""
        self.outputs: dict[str, Any] = {}
        self.failure: PreflightError | None = None
        self._lock = threading.Lock()
        self._files: dict[str, tuple[str, bool]] = {}
        disabled = config.values.get("pulumi:disable-default-providers") or []
        if isinstance(disabled, str):
            try:
                disabled = json.loads(disabled)
            except ValueError:
                disabled = [disabled]
        self.disabled_defaults = {str(d) for d in disabled} if isinstance(disabled, list) else set()

    # URNs the program sees are the engine's; ReadResource goes through here too.
    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return make_urn(self.stack, self.project.name, parent, type_, name)

    def alias_urns(self, request: Any, type_: str) -> list[str]:
        """Every alias as a URN. The Python SDK sends alias *specs* (`request.aliases`) to a
        monitor that supports them, and plain `aliasURNs` otherwise; a rename with an alias is
        then the same resource to `preflight diff`, as it is to the engine."""
        urns = list(request.aliasURNs)
        for alias in request.aliases:
            if alias.WhichOneof("alias") == "urn":
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            urns.append(
                make_urn(
                    spec.stack or self.stack,
                    spec.project or self.project.name,
                    parent,
                    spec.type or type_,
                    spec.name or request.name,
                )
            )
        return urns

    def _location(self, request: Any) -> str | None:
        """file:line of the program's code that declared the resource.

        The SDK's sourcePosition is the caller of the third `__init__` up the stack, which is
        inside the provider SDK for classes with a deeper hierarchy (providers). The stack
        trace it sends along is searched for the first frame in the project's own code.
        """
        if request.HasField("stackTrace"):
            for frame in request.stackTrace.frames:
                if frame.pc.uri and self._is_project_code(frame.pc.uri):
                    return self.relative(frame.pc.uri, frame.pc.line)
        if request.HasField("sourcePosition") and request.sourcePosition.uri:
            return self.relative(request.sourcePosition.uri, request.sourcePosition.line)
        return None

    def _file(self, uri_or_path: str) -> tuple[str, bool]:
        """(path as shown, is the project's own code) of a frame's file; cached, resolving is slow."""
        known = self._files.get(uri_or_path)
        if known is None:
            path = Path(_uri_path(uri_or_path))
            try:
                shown = path.resolve().relative_to(self.project.dir).as_posix()
                own = not ({".venv", "site-packages"} & set(path.parts)) and not _inside(path, _PREFLIGHT_DIR)
            except ValueError:
                shown, own = str(path), False
            known = self._files[uri_or_path] = (shown, own)
        return known

    def _is_project_code(self, uri: str) -> bool:
        return self._file(uri)[1]

    def relative(self, uri_or_path: str, line: int) -> str:
        return f"{self._file(uri_or_path)[0]}:{line}"

    def _emit(self, record: ResourceRecord) -> None:
        self.records.append(record)
        self.by_urn[record.urn] = record
        if self.on_resource is not None:
            try:
                self.on_resource(record)
            except PreflightError as exc:
                self._fail(exc)
            except Exception as exc:  # a failure of the consumer, not of the program
                self._fail(InternalFailure(f"while streaming {record.urn}: {type(exc).__name__}: {exc}"))

    def _fail(self, error: PreflightError) -> None:
        if self.failure is None:
            self.failure = error
        raise _Abort(error.message)

    def _default_provider(self, package: str, version: str, user: str, location: str | None) -> str:
        ref = self.default_providers.get(package)
        if ref is not None:
            return ref
        if "*" in self.disabled_defaults or package in self.disabled_defaults:
            where = f"{location}: " if location else ""
            self._fail(
                InternalFailure(
                    f"program error: {where}{user} uses the default {package} provider, which "
                    f"pulumi:disable-default-providers disables; pass an explicit provider"
                )
            )
        name = "default_" + version.replace(".", "_") if version else "default"
        type_ = PROVIDER_PREFIX + package
        urn = make_urn(self.stack, self.project.name, "", type_, name)
        inputs = {k: _config_value(v) for k, v in self.config.for_package(package).items()}
        if version:
            inputs["version"] = version
        region = inputs.get("region") if isinstance(inputs.get("region"), str) else None
        ident = mock_id(urn, type_, region)
        record = ResourceRecord(
            urn=urn,
            type=type_,
            name=name,
            custom=True,
            parent=self.stack_urn or None,
            provider=None,
            region=region,
            region_source="stack-config" if region else "none",
            inputs=inputs,
            outputs=dict(inputs),
            protect=False,
            location=None,
            id=ident,
        )
        ref = f"{urn}::{ident}"
        self.providers[ref] = record
        self.default_providers[package] = ref
        self._emit(record)
        return ref

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        from pulumi.runtime.mocks import MockMonitor
        from pulumi.runtime.proto import resource_pb2

        with self._lock:
            type_ = request.type
            location = self._location(request)
            if type_ == STACK_TYPE and not request.parent:
                urn = self.make_urn("", type_, request.name)
                self.stack_urn = urn
                record = ResourceRecord(
                    urn=urn,
                    type=type_,
                    name=request.name,
                    custom=False,
                    parent=None,
                    provider=None,
                    region=None,
                    region_source="none",
                    inputs={},
                    outputs={},
                )
                self._emit(record)
                return resource_pb2.RegisterResourceResponse(urn=urn)

            urn = self.make_urn(request.parent, type_, request.name)
            inputs = plain(request.object) if request.HasField("object") else {}
            custom = bool(request.custom)
            provider_ref = request.provider or None
            package = package_of(type_)
            is_provider = type_.startswith(PROVIDER_PREFIX)
            if custom and not is_provider and provider_ref is None and not request.remote:
                provider_ref = self._default_provider(package, request.version, urn, location)

            region: str | None = None
            source = "none"
            if is_provider:
                if isinstance(inputs.get("region"), str):
                    region, source = inputs["region"], "provider"
            elif custom:
                if package == "aws" and isinstance(inputs.get("region"), str):
                    region, source = inputs["region"], "field"
                elif provider_ref is not None:
                    prov = self.providers.get(provider_ref)
                    if prov is not None and prov.region:
                        region = prov.region
                        source = "stack-config" if prov.region_source == "stack-config" else "provider"
            ident = mock_id(urn, type_, region) if custom else None
            options: dict[str, Any] = {}
            if request.ignoreChanges:
                options["ignoreChanges"] = list(request.ignoreChanges)
            if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
                options["deleteBeforeReplace"] = bool(request.deleteBeforeReplace)
            if request.replaceOnChanges:
                options["replaceOnChanges"] = list(request.replaceOnChanges)
            if request.HasField("retainOnDelete"):
                options["retainOnDelete"] = bool(request.retainOnDelete)
            if request.additionalSecretOutputs:
                options["additionalSecretOutputs"] = list(request.additionalSecretOutputs)
            aliases = self.alias_urns(request, type_)
            if aliases:
                options["aliases"] = aliases
            if request.deletedWith:
                options["deletedWith"] = request.deletedWith
            if request.importId:
                options["import"] = request.importId
            record = ResourceRecord(
                urn=urn,
                type=type_,
                name=request.name,
                custom=custom,
                parent=request.parent or self.stack_urn or None,
                provider=provider_ref if custom else None,
                region=region,
                region_source=source,  # type: ignore[arg-type]
                inputs=inputs,
                # As the engine records them: a custom resource's outputs carry its id.
                outputs={**inputs, "id": ident} if custom and not is_provider else dict(inputs),
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                protect=bool(request.protect),
                location=location,
                id=ident,
                options=options,
            )
            if is_provider and ident is not None:
                self.providers[f"{urn}::{ident}"] = record
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, ident or "", inputs)
            self._emit(record)
            return resource_pb2.RegisterResourceResponse(
                urn=urn, id=ident or "", object=request.object if request.HasField("object") else None
            )

    def RegisterResourceOutputs(self, request: Any) -> empty_pb2.Empty:  # gRPC method name
        outputs = plain(request.outputs) if request.HasField("outputs") else {}
        with self._lock:
            if request.urn == self.stack_urn:
                self.outputs = outputs
            record = self.by_urn.get(request.urn)
            if record is not None:
                record.outputs = outputs
        return empty_pb2.Empty()


def _config_value(value: Any) -> Any:
    """A stack config value as a provider input (the engine passes provider config as text)."""
    return value if isinstance(value, str) else json.loads(json.dumps(value, default=str))


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def _process_state(project: Project, config: StackConfig) -> Iterator[None]:
    """cwd, sys.path, environment and modules as the language host sets them; all restored after."""
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    saved_env = {k: os.environ.get(k) for k in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    stashed = _shadowed_modules(project)
    before = set(sys.modules)
    os.environ["PULUMI_CONFIG"] = json.dumps(config.wire())
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(config.secret_keys))
    sys.path.insert(0, str(project.main.parent))
    os.chdir(project.dir)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        # The program's own modules go (the next project may have a package of the same name);
        # installed packages stay. Module paths come from sys.path entries, so a prefix test will do.
        root = str(project.dir) + os.sep
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            parts = Path(module_file).parts
            if module_file.startswith(root) and ".venv" not in parts and "site-packages" not in parts:
                del sys.modules[name]
        sys.modules.update(stashed)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a program runs; the collector's state restored after.

    The SDK allocates a great many objects per resource (Outputs, futures, tasks) that live
    until the run ends, the worst case for CPython's generational collector: with its defaults
    half of an 8,000-resource synthesis went to collections that found almost nothing, and
    raised thresholds only made the rare collections huge (docs/performance.md). Reference
    counting still frees everything acyclic at once; the few cycles the SDK leaves (measured:
    about 5% more peak memory at 8,000 resources) wait until the run ends. A program that
    makes reference cycles in bulk would hold them for the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _shadowed_modules(project: Project) -> dict[str, Any]:
    """Take out of sys.modules what would shadow the program's own top-level modules.

    In a fresh interpreter the program's directory comes first on sys.path, so its `stacks`
    package is the one `import stacks` finds. In this process another `stacks` (say, the one
    of the repository preflight runs from) may already be imported and would win. Such modules
    are set aside while the program runs and put back after. Installed and standard-library
    modules are never touched (a program directory named like one of them would break the
    runtime), and neither is preflight itself.
    """
    root = project.main.parent
    names = set()
    for entry in root.iterdir():
        if entry.is_dir() and not entry.name.startswith(".") and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix == ".py" and entry.stem.isidentifier():
            names.add(entry.stem)
    names -= {"preflight", "__main__"}
    system = tuple(str(Path(p).resolve()) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    own = str(project.dir) + os.sep
    stashed: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if name.split(".", 1)[0] not in names:
            continue
        module_file = getattr(module, "__file__", None) or ""
        parts = Path(module_file).parts
        if not module_file or module_file.startswith(own) or module_file.startswith(system):
            continue
        if "site-packages" in parts or "dist-packages" in parts:
            continue
        stashed[name] = sys.modules.pop(name)
    return stashed


def _uri_path(uri: str) -> str:
    if uri.startswith("file://"):
        return unquote(urlparse(uri).path)
    return uri


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _program_error(exc: BaseException, project: Project, monitor: RecordingMonitor) -> PreflightError:
    """One line for an exception raised by the program: its own message and the file:line in it."""
    import pulumi

    if monitor.failure is not None:
        return monitor.failure
    if isinstance(exc, pulumi.RunError):
        # The program refused to run (e.g. its settings validation): that is the user's input,
        # not a crash, so it is exit 2. Several problems stay on one line.
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
        return BadInput("; ".join(lines))
    frames = traceback.extract_tb(exc.__traceback__) if isinstance(exc, BaseException) else []
    where = None
    for frame in reversed(frames):
        if monitor._is_project_code(frame.filename):
            where = monitor.relative(frame.filename, frame.lineno or 0)
            break
    message = " ".join(str(exc).split()) or "(no message)"
    if len(message) > 400:
        message = message[:400] + "…"
    prefix = f"{where}: " if where else ""
    return InternalFailure(f"program error: {prefix}{type(exc).__name__}: {message}")


def _unretrieved(engine: _Engine, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    what = f"{type(exc).__name__}: {exc}" if exc is not None else str(context.get("message", ""))
    note = "unretrieved error in the program's async work: " + " ".join(what.split())[:200]
    if note not in engine.warnings:
        engine.warnings.append(note)


async def _in_stack(program: Callable[[], None]) -> None:
    """`pulumi.runtime.run_in_stack`, the language host's driver, plus one wait.

    The stack resource is registered, and its URN known, before the program's module code
    runs. The SDK does not wait there; every resource the program declares then queues behind
    the unresolved root, and the SDK's wait for outstanding work gets markedly slower (about
    40% of the whole synthesis here). Nothing recorded changes. The private helper is the one
    run_in_stack calls (pulumi 3.272, pinned).
    """
    from pulumi.runtime.settings import _load_monitor_feature_support
    from pulumi.runtime.stack import Stack, run_pulumi_func

    async def run() -> None:
        stack = Stack()
        await stack.urn.future()
        try:
            program()
            entry = stack._take_async_program()  # pulumi.run(async_main)
            if entry is not None:
                outputs = entry()
                if not inspect.isawaitable(outputs):
                    raise TypeError("The function passed to pulumi.run must return an awaitable")
                stack._add_program_outputs(await outputs)
        finally:
            stack._finish()

    await _load_monitor_feature_support()  # type: ignore[no-untyped-call]
    await run_pulumi_func(run)


def _run_program(
    project: Project, stack: str, config: StackConfig, monitor: RecordingMonitor, engine: _Engine
) -> None:
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import settings as runtime_settings

    loop = asyncio.new_event_loop()
    # One worker: monitor calls arrive in the order the program issues them, so the record
    # order (and every report built from it) is the same on every run.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflight-synth")
    loop.set_default_executor(executor)
    # Leftover futures of a failed run would be logged with formatted tracebacks (and 3.11's
    # caret formatting can upset the interpreter's AST state): the run's error is reported once,
    # by synthesize, and anything else unretrieved is only a note.
    loop.set_exception_handler(lambda _loop, context: _unretrieved(engine, context))
    previous_loop = None
    with contextlib.suppress(RuntimeError):
        previous_loop = asyncio.get_event_loop_policy().get_event_loop()
    asyncio.set_event_loop(loop)
    runtime_settings.ROOT.set(None)
    runtime_settings.configure(
        runtime_settings.Settings(
            project=project.name,
            stack=stack,
            monitor=monitor,
            engine=engine,
            dry_run=False,
            organization="organization",
            root_directory=str(project.dir),
        )
    )
    runtime_config.set_all_config(config.wire(), list(config.secret_keys))

    def program() -> None:
        with contextlib.redirect_stdout(sys.stderr):  # program prints must not corrupt --format json
            runpy.run_path(str(project.main), run_name="__main__")

    try:
        loop.run_until_complete(_in_stack(program))
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        executor.shutdown(wait=True)
        asyncio.set_event_loop(previous_loop)
        runtime_settings.ROOT.set(None)
        runtime_config.set_all_config({}, [])
        runtime_settings.configure(runtime_settings.Settings(project="project", stack="stack"))


def synthesize(
    project_dir: Path,
    stack: str,
    config_file: Path | None = None,
    *,
    on_resource: Callable[[ResourceRecord], None] | None = None,
) -> SynthResult:
    """Run the program of `project_dir` for `stack` under mocks; every resource, in registration order.

    `on_resource` is called for each record as it registers (from the runtime's worker thread),
    so a consumer (the policy pack) can work while the program still runs; it must be quick
    and thread-safe. Raises BadInput (project, stack file, config the program refused) or
    InternalFailure (the program raised; the message names its file:line).
    """
    project = load_project(Path(project_dir))
    config = load_stack_config(project, stack, config_file)
    warnings: list[str] = []
    errors: list[str] = []
    started = time.perf_counter()
    with _LOCK:
        monitor = RecordingMonitor(project, stack, config, on_resource, warnings)
        engine = _Engine(warnings, errors)
        with _process_state(project, config), collector_paused():
            try:
                _run_program(project, stack, config, monitor, engine)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit) and not isinstance(exc, SystemExit):
                    raise
                if isinstance(exc, SystemExit) and not exc.code:
                    pass  # sys.exit(0) from a program is a normal end
                else:
                    raise _program_error(exc, project, monitor) from None
    if monitor.failure is not None:
        raise monitor.failure
    if errors:
        raise InternalFailure(f"program error: the program logged an error: {errors[0]}")
    try:
        source = config.source.relative_to(project.dir).as_posix()
    except ValueError:
        source = str(config.source)
    return SynthResult(
        project=project.name,
        stack=stack,
        stack_urn=monitor.stack_urn,
        resources=monitor.records,
        outputs=monitor.outputs,
        config_source=source,
        warnings=warnings,
        seconds=round(time.perf_counter() - started, 3),
    )


_KILL_GRACE = 5.0
STREAM_SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005


def _read_lines(stream: Any, into: list[str], echo: TextIO | None) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        into.append(line)
        if echo is not None and not line.startswith("preflight: "):  # its error is ours to report
            echo.write(line)
            echo.flush()


def synthesize_isolated(
    project_dir: Path,
    stack: str,
    config_file: Path | None = None,
    *,
    timeout: float | None = None,
    on_resource: Callable[[ResourceRecord], None] | None = None,
    program_output: TextIO | None = None,
) -> SynthResult:
    """`synthesize` in a fresh interpreter (same Python): no module or runtime state is shared.

    Runs `python -m preflight _synth ...` (`stream_synthesis`), which sends each record over
    a pipe as it registers; `on_resource` sees every record here, on the calling thread, as
    soon as it arrives (outputs a component registers later arrive with the result). Two
    things follow from the separate process: the program's objects, most of a run's memory,
    are given back when the child exits, before the caller goes on (checkov); and the
    caller's own work on the records (the policy pack's requests) runs on another core
    instead of taking turns with the program for one interpreter lock.

    The child's one-line error becomes the same BadInput/InternalFailure here; an error
    raised by `on_resource` stops the child and is raised as it is. What the program prints
    goes to `program_output` as it comes (by default it is not shown).
    """
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    read_fd, write_fd = os.pipe()
    cmd = [sys.executable, "-m", "preflight", "_synth", "--project-dir", str(Path(project_dir).resolve())]
    cmd += ["--stack", stack, "--stream-fd", str(write_fd)]
    if config_file is not None:
        cmd += ["--config-file", str(Path(config_file).resolve())]
    try:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
        )
    except OSError as exc:
        os.close(read_fd)
        raise InternalFailure(f"synthesis could not start: {exc}") from None
    finally:
        os.close(write_fd)  # the child holds the only write end: its exit is our end of stream
    assert proc.stderr is not None
    stderr: list[str] = []
    drain = threading.Thread(target=_read_lines, args=(proc.stderr, stderr, program_output), daemon=True)
    drain.start()
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, expire) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    records: list[ResourceRecord] = []
    summary: dict[str, Any] | None = None
    failure: PreflightError | None = None
    ended = False  # the child closed the stream: it has finished or died on its own
    # The records feed other threads here (the pack's requests): when one of them holds the
    # interpreter lock, the reader waits out the switch interval for each batch it reads,
    # and the child waits on a full pipe. 1 ms instead of 5 keeps the stream moving.
    switch_interval = sys.getswitchinterval()
    if on_resource is not None:
        sys.setswitchinterval(min(switch_interval, STREAM_SWITCH_INTERVAL))
    try:
        with os.fdopen(read_fd, "rb") as stream:
            while True:
                try:
                    kind, payload = pickle.load(stream)  # noqa: S301 - our own child, our own records
                except EOFError:
                    break
                except (pickle.UnpicklingError, ValueError, TypeError) as exc:
                    failure = InternalFailure(f"synthesis sent an unreadable record: {exc}")
                    break
                if kind == "resource":
                    records.append(payload)
                    if on_resource is not None:
                        try:
                            on_resource(payload)
                        except PreflightError as exc:
                            failure = exc
                            break
                        except Exception as exc:  # a failure of the consumer, not of the program
                            failure = InternalFailure(
                                f"while streaming {payload.urn}: {type(exc).__name__}: {exc}"
                            )
                            break
                elif kind == "result":
                    summary = payload
            ended = failure is None
    finally:
        sys.setswitchinterval(switch_interval)
        if not ended and proc.poll() is None:  # we stopped reading (a failure, an interrupt)
            proc.kill()
        try:
            proc.wait(timeout=None if ended else _KILL_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if timer is not None:
            timer.cancel()
        drain.join(timeout=_KILL_GRACE)
    if timed_out.is_set():  # before `failure`: a killed child's last record is cut short
        raise InternalFailure(f"synthesis of {project_dir} ({stack}) took longer than {timeout:g}s")
    if failure is not None:
        raise failure
    if proc.returncode != 0:
        lines = [ln.rstrip() for ln in stderr if ln.strip() and not ln.startswith("warning:")]
        message = lines[-1] if lines else f"synthesis failed with exit code {proc.returncode}"
        message = message.removeprefix("preflight: error: ").removeprefix("preflight: ")
        if proc.returncode == EXIT_BAD_INPUT:
            raise BadInput(message)
        raise InternalFailure(message)
    if summary is None:
        raise InternalFailure("synthesis ended without sending its result")
    by_urn = {r.urn: r for r in records}
    for urn, outputs in summary.pop("changed_outputs").items():
        by_urn[urn].outputs = outputs
    return SynthResult(resources=records, **summary)


def stream_synthesis(fd: int, project_dir: Path, stack: str, config_file: Path | None = None) -> int:
    """The child's side of `synthesize_isolated`: synthesize, sending each record to `fd`.

    Messages are pickled `(kind, payload)` pairs: ("resource", ResourceRecord) as each
    registers, then ("result", the SynthResult's other fields, with the outputs that
    changed after a record was sent). Errors are raised as in `synthesize` (the CLI turns
    them into its one line and exit code).
    """
    sent: dict[str, Any] = {}
    with os.fdopen(fd, "wb") as out:

        def send(kind: str, payload: Any) -> None:
            pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

        def on_resource(record: ResourceRecord) -> None:
            sent[record.urn] = record.outputs
            send("resource", record)

        result = synthesize(project_dir, stack, config_file, on_resource=on_resource)
        changed = {r.urn: r.outputs for r in result.resources if r.outputs is not sent.get(r.urn)}
        send(
            "result",
            {
                "project": result.project,
                "stack": result.stack,
                "stack_urn": result.stack_urn,
                "outputs": result.outputs,
                "config_source": result.config_source,
                "warnings": result.warnings,
                "seconds": result.seconds,
                "changed_outputs": changed,
            },
        )
    return 0


def write_result(result: SynthResult, path: Path) -> None:
    path.write_text(json.dumps(result.to_dict(), indent=None, sort_keys=False) + "\n", encoding="utf-8")


__all__ = [
    "RecordingMonitor",
    "SynthResult",
    "collector_paused",
    "make_urn",
    "plain",
    "stream_synthesis",
    "synthesize",
    "synthesize_isolated",
    "write_result",
]
