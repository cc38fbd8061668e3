"""The pack's analyzer runtime: the SDK's own servicer, each request parsed once, same answers.

pulumi-policy 1.21 (`pulumi_policy/policy.py`, `_PolicyAnalyzerServicer`) is written for
clarity, not for 8,000-resource stacks: per request it loops over *every* policy, and for each
one converts the properties from protobuf, deserialises them, wraps them in a proxy, and
builds the options and provider objects again; `AnalyzeStack` rebuilds every resource of the
stack once per stack policy. `install()` keeps the SDK's methods (no copy of their logic) and
changes only what they are handed, per call:

- **memoisation** — for the duration of one call and on its own thread, `MessageToDict`,
  `deserialize_properties`, `unknown_checking_proxy`, `_get_resource_options` and
  `_get_provider_resource` remember their result per input object (by identity; the cache
  holds the input, so an id cannot be reused while cached), and so does the pack's conversion
  of props to plain data (`resource_props`, through `once_per_call`); the SDK's
  `inspect.signature` of the runtime's `Settings` class, asked on every call, is cached;
- **applicable policies only** — `Analyze` runs the SDK's method on a view of the servicer
  whose policy list leaves out the resource policies that declare (`declare_types`) that they
  do not apply to the request's type: their `validate` would return at its first line;
- **the stack's resources built once** — the SDK's `AnalyzeStack` builds every resource of
  the request again for each stack policy; `_analyze_stack` is that method with the building
  (`_stack_resources`, the SDK's own statements) done at the first stack policy that runs, and
  every stack policy handed its own list of the same resource objects;
- **no cyclic garbage collection during a call** (`_CollectorPause`);
- **one server worker thread**: the SDK serves with `ThreadPoolExecutor(max_workers=4)`, but
  every handler holds the GIL from start to end, so four workers only take turns at it and pay
  for each hand-over; the engine sends a pack one request at a time anyway (its step generator
  calls analyzers in turn), and preflight's many requests in flight wait in gRPC's queue instead.
  Measured on the 2,000-resource estate, same machine and sitting, pack A/B: 4.83 s against
  5.59 s (median of four), about 14% less.

Nothing crosses calls or threads. Parsed props are shared among the policies of one call,
which only read them (none mutates props). `tests/policies/test_pack_runtime.py` proves the
responses are byte-for-byte those of the plain SDK on every case of the pack's test corpus
and on the synthesized prod stack.

The runtime is verified against one SDK version (`VERIFIED_SDK`); with any other version, or
if the SDK's internals change shape, `install()` does nothing and the pack runs at the SDK's
own speed: correctness never depends on this module.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib
import threading
from collections.abc import Callable
from inspect import isawaitable
from typing import Any, TypeVar

VERIFIED_SDK = "1.21.0"  # the pulumi-policy version whose servicer internals this was checked against
APPLIES_TO = "usdr_applies_to"  # attribute of a resource policy: the types it can report on
_POLICIES = "_PolicyAnalyzerServicer__policies"  # the servicer's (name-mangled) policy list
_STACK_TAGS = "_PolicyAnalyzerServicer__stack_tags"
_PACK_NAME = "_PolicyAnalyzerServicer__policy_pack_name"
_PACK_VERSION = "_PolicyAnalyzerServicer__policy_pack_version"
_MARK = "__usdr_runtime__"

_local = threading.local()
_P = TypeVar("_P")


def in_call() -> bool:
    """True on a thread that is inside an analyzer call of the installed runtime."""
    return getattr(_local, "cache", None) is not None


def remember(owner: object, anchor: object, compute: Callable[[], Any]) -> Any:
    """`compute()`, once per analyzer call for this `owner` (a function) and `anchor` object.

    Outside a call of the installed runtime it simply computes. Results are shared within
    the call: callers only read them.
    """
    cache: dict[tuple[int, int], tuple[Any, Any]] | None = getattr(_local, "cache", None)
    if cache is None:
        return compute()
    slot = (id(owner), id(anchor))
    hit = cache.get(slot)
    if hit is not None and hit[0] is anchor:
        return hit[1]
    result = compute()
    cache[slot] = (anchor, result)  # holds the anchor: its id cannot be reused while cached
    return result


def once_per_call(fn: Callable[[Any], Any], value: Any, *, key: Any = None) -> Any:
    """`fn(value)`, computed once per analyzer call for this very `value` object (by identity).

    `key`, when given, is the object whose identity stands for `value` (an SDK wrapper built
    anew for each policy around the same parsed request data). Outside a call of the installed
    runtime (tests driving the servicer directly, an SDK this was not verified against) it
    simply calls `fn`. Results are shared within the call: callers only read them.
    """
    return remember(fn, value if key is None else key, lambda: fn(value))


def declare_types(policy: _P, applies_to: Callable[[str], bool]) -> _P:
    """Mark a resource policy whose `validate` reports nothing on a type `applies_to` rejects.

    The runtime then does not call it for those types; the SDK alone ignores the mark.
    """
    setattr(policy, APPLIES_TO, applies_to)
    return policy


def _memo_by_identity(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # a non-default form (Remediate keeps unknowns): not memoised
            return fn(value, *args, **kwargs)
        return remember(fn, value, lambda: fn(value))

    return wrapper


def _memo_method(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A servicer method of one request (message) argument, remembered per request object."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any) -> Any:
        return remember(method, request, lambda: method(self, request))

    return wrapper


class _JsonFormat:
    """Stands in for `google.protobuf.json_format` inside pulumi_policy.policy only."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.MessageToDict = _memo_by_identity(real.MessageToDict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _CollectorPause:
    """Pause the cyclic garbage collector while any analyzer call runs (calls run on 4 threads).

    A call allocates tens of thousands of objects that all live until it returns (the parsed
    props, the proxies, the SDK's per-policy `PolicyResource`s), which is the worst case for
    CPython's generational collector: every full collection rescans all of them, and an 8,000
    resource AnalyzeStack spent more than half its time there (docs/performance.md).
    Reference counting still frees everything acyclic at once; cycles wait until the last
    running call returns, when collection resumes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._was_enabled:
                gc.enable()


_pause = _CollectorPause()


def _per_call(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Any:
        outer = getattr(_local, "cache", None)
        _local.cache = {}
        try:
            with _pause:
                return method(self, request, context)
        finally:
            _local.cache = outer

    setattr(wrapper, _MARK, True)
    return wrapper


class _PolicyView:
    """The servicer as the SDK's `Analyze` sees it, holding only some of its policies.

    Everything but the policy list is the servicer's own (read through on every access), so
    a later `Configure` is seen at once.
    """

    def __init__(self, servicer: Any, policies: list[Any]) -> None:
        self.__dict__["_servicer"] = servicer
        self.__dict__[_POLICIES] = policies

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_servicer"], name)


def _view_for(servicer: Any, resource_type: str) -> _PolicyView:
    views: dict[str, _PolicyView] = servicer.__dict__.setdefault("_usdr_views", {})
    view = views.get(resource_type)
    if view is None:  # a race only builds the same view twice
        kept = []
        for policy in getattr(servicer, _POLICIES):
            applies = getattr(policy, APPLIES_TO, None)
            if applies is None or applies(resource_type):
                kept.append(policy)
        view = views[resource_type] = _PolicyView(servicer, kept)
    return view


def _applicable_only(sdk_analyze: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(sdk_analyze)
    def analyze(self: Any, request: Any, context: Any) -> Any:
        return sdk_analyze(_view_for(self, request.type), request, context)

    return analyze


def _stack_resources(self: Any, sdk: Any, request: Any) -> list[Any]:
    """The request's resources as the SDK's `AnalyzeStack` builds them for each stack policy
    (pulumi_policy 1.21 policy.py, the loop over `request.resources` and the wiring after it),
    statement for statement: props deserialised and proxied, options and provider, then
    parent, dependencies and property dependencies resolved to the resource objects by URN
    (a URN not in the request is left out; of two resources with one URN the later wins)."""
    intermediates = []
    for r in request.resources:
        deserialized = sdk.deserialize_properties(sdk.json_format.MessageToDict(r.properties))
        props = sdk.unknown_checking_proxy(deserialized)
        opts = self._get_resource_options(r)
        provider = self._get_provider_resource(r)
        resource = sdk.PolicyResource(r.type, props, r.urn, r.name, opts, provider, None, [], {})
        property_dependencies = {k: list(v.urns) for k, v in r.propertyDependencies.items()}
        intermediates.append((resource, r.parent, list(r.dependencies), property_dependencies))
    urns_to_resources = {i[0].urn: i[0] for i in intermediates}
    for resource, parent, dependencies, property_dependencies in intermediates:
        if parent is not None and parent in urns_to_resources:
            resource.parent = urns_to_resources[parent]
        for d in dependencies:
            if d in urns_to_resources:
                resource.dependencies.append(urns_to_resources[d])
        for k, v in property_dependencies.items():
            resource.property_dependencies[k] = [urns_to_resources[d] for d in v if d in urns_to_resources]
    return [i[0] for i in intermediates]


def _analyze_stack(self: Any, request: Any, _context: Any) -> Any:
    """The SDK's `AnalyzeStack` (pulumi_policy 1.21), building the stack's resources once.

    The SDK builds every resource of the request again for each stack policy (24 policies
    at 8,000 resources: 192,000 `PolicyResource`s, each wired to its parent and dependencies).
    Here they are built at the first stack policy that runs, exactly as the SDK builds them
    (`_stack_resources`), and every stack policy gets its own list of those same objects;
    the rest is the SDK's method: the same policies in the same order, the same levels, the
    same handling of unknown values (an advisory "can't run ... during preview") and of
    `not_applicable`, the same response. The pack's stack policies only read the resources
    they are handed (`Resource.from_policy_resource`), so sharing them changes no answer;
    `tests/policies/test_pack_runtime.py` compares both paths byte for byte, including
    stacks built to tell them apart (dangling and duplicate URNs, unknowns, levels).
    """
    sdk = _sdk()
    self._configure_runtime_settings()
    response = sdk.proto.AnalyzeResponse()
    built: list[Any] | None = None
    for policy in getattr(self, _POLICIES):
        enforcement_level = self._get_enforcement_level(policy)
        if enforcement_level == sdk.EnforcementLevel.DISABLED or not isinstance(
            policy, sdk.StackValidationPolicy
        ):
            continue
        if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
            enforcement_level = sdk.EnforcementLevel.MANDATORY
        report_violation = self._create_report_violation(
            response, policy.name, policy.description, enforcement_level, policy.severity
        )
        if built is None:
            built = _stack_resources(self, sdk, request)
        config = self._get_policy_config(policy.name)
        args = sdk.StackValidationArgs(list(built), config, getattr(self, _STACK_TAGS))
        try:
            result = policy.validate(args, report_violation)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                task: Any = asyncio.Task(result, loop=loop)  # type: ignore[arg-type]  # the SDK's own call
                loop.run_until_complete(task)
                loop.close()
        except sdk.UnknownValueError as e:
            name, version = getattr(self, _PACK_NAME), getattr(self, _PACK_VERSION)
            response.diagnostics.append(
                sdk.proto.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=name,
                    policyPackVersion=version,
                    message=(
                        f"can't run policy '{policy.name}' from policy pack "
                        f"'{name}@v{version}' during preview: {e.message}"
                    ),
                    urn="",
                    description=policy.description,
                    enforcementLevel=self._map_enforcement_level(sdk.EnforcementLevel.ADVISORY),
                )
            )
        except sdk._NotApplicableError as e:
            response.not_applicable.append(
                sdk.proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or "")
            )
    return response


def _sdk() -> Any:
    return importlib.import_module("pulumi_policy.policy")


class _OneWorker:
    """Stands in for `concurrent.futures` inside pulumi_policy.policy only: its server's pool
    gets one worker (see the module docstring)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def ThreadPoolExecutor(self, max_workers: int | None = None, **kwargs: Any) -> Any:  # the SDK names it
        return self._real.ThreadPoolExecutor(max_workers=1, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


_saved: dict[str, Any] = {}
_STACK_NAMES = (
    "PolicyResource",
    "StackValidationArgs",
    "StackValidationPolicy",
    "EnforcementLevel",
    "UnknownValueError",
    "_NotApplicableError",
    "proto",
)


def install() -> bool:
    """Put the runtime in place (see the module docstring); True if it is (or already was)."""
    try:
        sdk: Any = importlib.import_module("pulumi_policy.policy")  # its internals, untyped on purpose
        version = importlib.import_module("pulumi_policy.version").VERSION
        servicer = sdk._PolicyAnalyzerServicer
        originals = {
            "Analyze": servicer.Analyze,
            "AnalyzeStack": servicer.AnalyzeStack,
            "_get_resource_options": servicer._get_resource_options,
            "_get_provider_resource": servicer._get_provider_resource,
            "json_format": sdk.json_format,
            "deserialize_properties": sdk.deserialize_properties,
            "unknown_checking_proxy": sdk.unknown_checking_proxy,
            "signature": sdk.signature,
            "futures": sdk.futures,
        }
        for name in _STACK_NAMES:  # what `_analyze_stack` reads from the SDK's module
            getattr(sdk, name)
    except (ImportError, AttributeError):
        return False
    if getattr(originals["Analyze"], _MARK, False):
        return True
    if version != VERIFIED_SDK:
        return False
    _saved.update(originals)
    sdk.json_format = _JsonFormat(originals["json_format"])
    sdk.deserialize_properties = _memo_by_identity(originals["deserialize_properties"])
    sdk.unknown_checking_proxy = _memo_by_identity(originals["unknown_checking_proxy"])
    # `_configure_runtime_settings` asks for `signature(pulumi.runtime.Settings)` on every call.
    sdk.signature = functools.lru_cache(maxsize=8)(originals["signature"])
    servicer._get_resource_options = _memo_method(originals["_get_resource_options"])
    servicer._get_provider_resource = _memo_method(originals["_get_provider_resource"])
    servicer.Analyze = _per_call(_applicable_only(originals["Analyze"]))
    servicer.AnalyzeStack = _per_call(_analyze_stack)
    sdk.futures = _OneWorker(originals["futures"])
    return True


def uninstall() -> None:
    """Undo `install()` (tests compare both)."""
    if not _saved:
        return
    sdk: Any = importlib.import_module("pulumi_policy.policy")
    servicer = sdk._PolicyAnalyzerServicer
    for name in ("Analyze", "AnalyzeStack", "_get_resource_options", "_get_provider_resource"):
        setattr(servicer, name, _saved[name])
    for name in ("json_format", "deserialize_properties", "unknown_checking_proxy", "signature", "futures"):
        setattr(sdk, name, _saved[name])
    _saved.clear()
