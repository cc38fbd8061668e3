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
- **the stack request read once** — `AnalyzeStack` hands the SDK the request's resources as
  plain Python records (`_StackResource`), built once, instead of protobuf messages that the
  SDK walks again for every stack policy;
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

import functools
import gc
import importlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

VERIFIED_SDK = "1.21.0"  # the pulumi-policy version whose servicer internals this was checked against
APPLIES_TO = "usdr_applies_to"  # attribute of a resource policy: the types it can report on
_POLICIES = "_PolicyAnalyzerServicer__policies"  # the servicer's (name-mangled) policy list
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


class _Urns:
    __slots__ = ("urns",)

    def __init__(self, urns: list[str]) -> None:
        self.urns = urns


class _StackResource:
    """One `AnalyzerResource` as the plain attributes the SDK's `AnalyzeStack` reads.

    Submessages (properties, options, provider) stay the request's own objects, so the
    memoised conversions of one resource are shared by every stack policy.
    """

    __slots__ = (
        "_message",
        "dependencies",
        "name",
        "options",
        "parent",
        "properties",
        "propertyDependencies",
        "provider",
        "type",
        "urn",
    )

    def __init__(self, message: Any) -> None:
        self._message = message
        self.type = message.type
        self.urn = message.urn
        self.name = message.name
        self.parent = message.parent
        self.properties = message.properties
        self.options = message.options
        self.provider = message.provider
        self.dependencies = list(message.dependencies)
        self.propertyDependencies = {k: _Urns(list(v.urns)) for k, v in message.propertyDependencies.items()}

    def HasField(self, name: str) -> bool:
        return bool(self._message.HasField(name))

    def __getattr__(self, name: str) -> Any:  # any field the SDK may read in a later version
        return getattr(self._message, name)


class _StackRequest:
    """An `AnalyzeStackRequest` whose resources are read once (`_StackResource`)."""

    def __init__(self, message: Any) -> None:
        self._message = message
        self.resources = [_StackResource(r) for r in message.resources]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._message, name)


def _read_once(sdk_analyze_stack: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(sdk_analyze_stack)
    def analyze_stack(self: Any, request: Any, context: Any) -> Any:
        return sdk_analyze_stack(self, _StackRequest(request), context)

    return analyze_stack


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
    servicer.AnalyzeStack = _per_call(_read_once(originals["AnalyzeStack"]))
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
