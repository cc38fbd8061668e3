"""The resource monitor preflight puts where the engine would be, and the engine's log service.

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
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from google.protobuf import empty_pb2

from preflight.engine import lookups, stack_refs
from preflight.engine.stack_refs import STACK_REFERENCE_TYPE, StackOutputs
from preflight.engine.transforms import Transforms, parents, run_chain, run_invoke_chain
from preflight.engine.urns import PROVIDER_PREFIX, STACK_TYPE, make_urn, mock_id, package_of
from preflight.engine.values import plain, secret_fields
from preflight.errors import InternalFailure, PreflightError
from preflight.model import ResourceRecord
from preflight.project import SECRET_PLACEHOLDER, Project, StackConfig

_PREFLIGHT_DIR = Path(__file__).resolve().parents[1]  # never "the program's code", even in this repo


class _Abort(Exception):
    """Raised inside a registration to stop the program; the real error is on the monitor."""


def _monitor_base() -> type[Any]:
    from pulumi.runtime.mocks import MockMonitor

    return MockMonitor


class _Mocks:
    """The `Mocks` the base monitor calls for reads and invokes (registrations never reach it)."""

    def __init__(self, warnings: list[str], stack_outputs: dict[str, StackOutputs]) -> None:
        self.warnings = warnings
        self.stack_outputs = stack_outputs
        self.failure: PreflightError | None = None
        # Set by the monitor: answers a lookup (lookups.py), raising NoAnswer.
        self.answer: Callable[[Any], dict[str, Any]] | None = None

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            ref = str(args.inputs.get("name") or args.name)
            answer = self.stack_outputs.get(ref)
            if answer is None:
                self.failure = self.failure or stack_refs.missing(ref)
                raise _Abort(self.failure.message)
            state = {"name": ref, "outputs": answer.outputs, "secretOutputNames": list(answer.secret_names)}
            return ref, state
        return args.resource_id or mock_id(f"read:{args.typ}:{args.name}", args.typ, None), dict(args.inputs)

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """A lookup's answer, or a provider-style failure the program sees as `invoke ... failed`."""
        if self.answer is None:
            raise InternalFailure(f"invoke {args.token}: no lookup model installed")
        try:
            return self.answer(args), []
        except lookups.NoAnswer as exc:
            return {}, [("", f"preflight cannot answer it offline: {exc}")]

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
        stack_outputs: dict[str, StackOutputs] | None = None,
        answers: lookups.Lookups | None = None,
    ) -> None:
        self.mocks_: _Mocks = _Mocks(warnings, stack_outputs or {})
        self.mocks_.answer = self._answer_lookup
        self.lookups = answers or lookups.Lookups()
        super().__init__(self.mocks_)
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
        self.transforms = Transforms()
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

    def RegisterStackTransform(self, request: Any) -> empty_pb2.Empty:  # gRPC method name
        """Kept, as the engine keeps it, and run on every later registration (transforms.py)."""
        self.transforms.register_stack(request)
        return empty_pb2.Empty()

    def RegisterStackInvokeTransform(self, request: Any) -> empty_pb2.Empty:  # gRPC method name
        self.transforms.register_invoke(request)
        return empty_pb2.Empty()

    def Invoke(self, request: Any) -> Any:  # gRPC method name
        """A lookup, after the stack's invoke transforms ran on it as the engine runs them."""
        chain = self.transforms.invoke_chain()
        if chain:
            try:
                request = run_invoke_chain(request, chain, request.provider)
            except PreflightError as exc:
                self._fail(exc)
        return super().Invoke(request)

    def _answer_lookup(self, args: Any) -> dict[str, Any]:
        """Answer an invoke on its provider: the one named, else the package's default provider
        (which the engine creates for an invoke as for a resource, config and all)."""
        package = args.token.split(":", 1)[0]
        with self._lock:
            ref = args.provider or self._default_provider(package, "", f"invoke {args.token}", None)
            prov = self.providers.get(ref)
        region = prov.region if prov is not None else None
        name = prov.name if prov is not None else (ref.split("::")[-2] if "::" in ref else ref or "?")
        config = prov.inputs if prov is not None else {}
        caller = lookups.Caller(args.token, dict(args.args or {}), region, name, config)
        try:
            return self.lookups.answer(caller)
        except lookups.NoAnswer as exc:
            where = f" (region {region})" if region else ""
            failure = InternalFailure(
                f"lookup {args.token} on provider {name}{where} has no offline answer: {exc}; "
                f"{self.lookups.how_to_answer()}"
            )
            with self._lock:
                if self.mocks_.failure is None:
                    self.mocks_.failure = failure
            raise

    def _transformed(self, request: Any) -> Any:
        """The request as the engine registers it once the transforms that apply have run.
        Outside the monitor's lock: a transform is the program's code and may wait on outputs
        of resources still registering."""
        if request.type == STACK_TYPE and not request.parent:
            return request
        chain = self.transforms.chain(request, parents(self.by_urn))
        if not chain:
            return request
        package = package_of(request.type)
        provider = request.provider
        if request.custom or request.remote:
            provider = self.transforms.resolve_provider(request, package)
        try:
            return run_chain(request, chain, provider, self._location(request))
        except PreflightError as exc:
            self._fail(exc)
            raise  # unreachable: _fail raises

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        from pulumi.runtime.mocks import MockMonitor
        from pulumi.runtime.proto import resource_pb2

        request = self._transformed(request)
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
                # The engine marks these outputs secret whatever the provider returns
                # (pkg/resource/deploy/step_executor.go); with mock outputs = inputs the input
                # of the same name holds the same value, so both are recorded masked.
                inputs = _masked(inputs, request.additionalSecretOutputs)
            aliases = self.alias_urns(request, type_)
            if aliases:
                options["aliases"] = aliases
            if request.deletedWith:
                options["deletedWith"] = request.deletedWith
            if request.importId:
                options["import"] = request.importId
            record = ResourceRecord(
                unevaluable=_unevaluable(request, package),
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
                # Sorted: the SDK builds both from sets (pulumi/runtime/resource.py,
                # `dependencies: set[str]`, `property_dependencies[key] = list(urns)` of a
                # set), so their order differs between processes; to the engine they are sets.
                dependencies=sorted(request.dependencies),
                property_dependencies={
                    k: sorted(request.propertyDependencies[k].urns)
                    for k in sorted(request.propertyDependencies)
                },
                protect=bool(request.protect),
                location=location,
                id=ident,
                options=options,
            )
            if is_provider and ident is not None:
                self.providers[f"{urn}::{ident}"] = record
            self.transforms.remember(urn, request)
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, ident or "", inputs)
            self._emit(record)
            returned = request.object if request.HasField("object") else None
            if returned is not None and request.additionalSecretOutputs:
                returned = secret_fields(returned, request.additionalSecretOutputs)
            return resource_pb2.RegisterResourceResponse(urn=urn, id=ident or "", object=returned)

    def RegisterResourceOutputs(self, request: Any) -> empty_pb2.Empty:  # gRPC method name
        outputs = plain(request.outputs) if request.HasField("outputs") else {}
        with self._lock:
            if request.urn == self.stack_urn:
                self.outputs = outputs
            record = self.by_urn.get(request.urn)
            if record is not None:
                record.outputs = outputs
        return empty_pb2.Empty()


def _unevaluable(request: Any, package: str) -> str | None:
    """Why a registration's effect needs a provider that cannot run offline, or None."""
    if request.remote:
        # The engine calls the package's provider plugin (Construct), which registers the
        # children (pkg/resource/deploy/source_eval.go, remote components); preflight has none.
        return (
            f"a multi-language (remote) component: the {package} provider plugin constructs its "
            "children when the engine runs, so what it creates cannot be evaluated offline"
        )
    if package == DYNAMIC_PACKAGE:
        # sdk/python/lib/pulumi/dynamic/dynamic.py: `pulumi-python:dynamic:Resource`, whose
        # create/update is the program's own pickled code, run by the engine at deploy time.
        return (
            "a dynamic provider resource: its create and update run the program's own code at "
            "deploy time, so what it does cannot be evaluated offline"
        )
    return None


DYNAMIC_PACKAGE = "pulumi-python"


def _masked(props: dict[str, Any], names: Any) -> dict[str, Any]:
    """`props` with the top-level properties `names` (wire names) replaced by the secret placeholder."""
    hidden = set(names)
    if not hidden & props.keys():
        return props
    return {k: SECRET_PLACEHOLDER if k in hidden else v for k, v in props.items()}


def _config_value(value: Any) -> Any:
    """A stack config value as a provider input (the engine passes provider config as text)."""
    return value if isinstance(value, str) else json.loads(json.dumps(value, default=str))


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
