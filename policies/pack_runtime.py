"""Per-request memoisation for the SDK's analyzer server: the same answers, computed once.

pulumi-policy 1.21 (`pulumi_policy/policy.py`, `_PolicyAnalyzerServicer`) converts a request's
properties from protobuf to a dict and deserialises them once *per policy*: with 20 resource
policies, `Analyze` parses every resource 20 times, and `AnalyzeStack` parses every resource
once per stack policy. Profiling `preflight gate` on prod put about 55% of the pack's time
there (docs/performance.md).

`install()` wraps the servicer's `Analyze` and `AnalyzeStack` so that, for the duration of one
call and on its own thread, `json_format.MessageToDict` and `deserialize_properties` remember
their result per input object (by identity; the cache holds the input, so an id cannot be
reused while cached), and so does the pack's own conversion of props to plain data
(`resource_props.Resource`, through `once_per_call`). Nothing crosses calls or threads, and
the parsed dicts are only read by this pack's policies (none mutates props), so sharing them
across policies within one call changes no result — `tests/policies/test_pack_runtime.py` proves the findings
are identical with and without it.

If the SDK's internals ever change shape, `install()` does nothing and the pack runs at the
SDK's own speed: correctness never depends on this module.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from typing import Any

_local = threading.local()


def once_per_call(fn: Callable[[Any], Any], value: Any) -> Any:
    """`fn(value)`, computed once per analyzer call for this very `value` object (by identity).

    Outside a memoised call (tests driving the servicer directly, an SDK whose internals
    changed) it simply calls `fn`. Results are shared within the call: callers only read them.
    """
    cache: dict[tuple[int, int], tuple[Any, Any]] | None = getattr(_local, "cache", None)
    if cache is None:
        return fn(value)
    key = (id(fn), id(value))
    hit = cache.get(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    result = fn(value)
    cache[key] = (value, result)  # holds `value`: its id cannot be reused while cached
    return result


def _memo_by_identity(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # a non-default form (Remediate keeps unknowns): not memoised
            return fn(value, *args, **kwargs)
        return once_per_call(fn, value)

    return wrapper


class _JsonFormat:
    """Stands in for `google.protobuf.json_format` inside pulumi_policy.policy only."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.MessageToDict = _memo_by_identity(real.MessageToDict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _per_call(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Any:
        outer = getattr(_local, "cache", None)
        _local.cache = {}
        try:
            return method(self, request, context)
        finally:
            _local.cache = outer

    wrapper.__usdr_memoised__ = True  # type: ignore[attr-defined]
    return wrapper


def install() -> bool:
    """Apply the memoisation to pulumi_policy's servicer; True if applied (or already)."""
    try:
        sdk: Any = importlib.import_module("pulumi_policy.policy")  # its internals, untyped on purpose
        servicer = sdk._PolicyAnalyzerServicer
        analyze, analyze_stack = servicer.Analyze, servicer.AnalyzeStack
        json_format, deserialize = sdk.json_format, sdk.deserialize_properties
    except (ImportError, AttributeError):
        return False
    if getattr(analyze, "__usdr_memoised__", False):
        return True
    sdk.json_format = _JsonFormat(json_format)
    sdk.deserialize_properties = _memo_by_identity(deserialize)
    servicer.Analyze = _per_call(analyze)
    servicer.AnalyzeStack = _per_call(analyze_stack)
    return True


def uninstall() -> None:
    """Undo `install()` (tests compare both)."""
    sdk: Any = importlib.import_module("pulumi_policy.policy")
    servicer = sdk._PolicyAnalyzerServicer
    if not getattr(servicer.Analyze, "__usdr_memoised__", False):
        return
    servicer.Analyze = servicer.Analyze.__wrapped__
    servicer.AnalyzeStack = servicer.AnalyzeStack.__wrapped__
    sdk.json_format = sdk.json_format._real
    sdk.deserialize_properties = sdk.deserialize_properties.__wrapped__
