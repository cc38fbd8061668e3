"""Resource transforms, run as the engine runs them.

A program's transforms (`pulumi.runtime.register_resource_transform`, the `transforms=` resource
option) are not applied by the SDK: it registers each one with its callbacks service
(sdk/python/lib/pulumi/runtime/_callbacks.py) and sends the engine a `Callback` (target, token).
The engine calls them back during RegisterResource and registers what they return
(pkg/resource/deploy/source_eval.go, `RegisterResource` and `wrapTransformCallback`):

* the options handed to a transform are built from the request (`TransformResourceOptions`: the
  resolved provider, protect, dependsOn, aliases (alias URNs first, then specs), ignoreChanges,
  ...); the request's parent travels beside them;
* order: the resource's own transforms, then each ancestor's own (parent, grandparent, ...),
  then the stack's in registration order; each gets the previous one's props and options;
* a response without properties keeps the props, one without options keeps the options; the
  returned options replace the old ones whole. Name, type and parent cannot change (the engine
  takes them from the request; the SDK does not even send a new parent back);
* after the transforms the engine uses the options: provider (empty: the default provider),
  protect, ignoreChanges, replaceOnChanges, retainOnDelete, deleteBeforeReplace, import,
  additionalSecretOutputs, aliases, deletedWith, version; dependsOn is re-read only when the
  resource had transforms of its own (as the engine does);
* a transform that fails fails the registration ("invoke transform: ...").

preflight does the engine's half here and leaves the program's half to the SDK's own code: the
callback is looked up by its token in the SDK's callback servicer and awaited on the program's
event loop (which is free: the SDK calls the monitor from an executor thread), exactly the
coroutine the servicer's gRPC `Invoke` would await. The older `transformations=` and
`register_stack_transformation` run inside the SDK before it registers, so they need nothing here.

Not emulated: the engine's `upgradeOutputValues` of the props before a transform (dependency
tracking only; the mock monitor does not support output values), and transforms of remote
components' children (remote components are not constructed offline).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from typing import Any

from preflight.errors import InternalFailure

# How long one transform may take (it runs the program's own code on the program's loop).
TRANSFORM_TIMEOUT = 300.0


class Transforms:
    """The transforms the engine keeps: the stack's, and each resource's own (for its children)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stack: list[Any] = []  # Callback messages, in registration order
        self.invoke_stack: list[Any] = []  # invoke transforms (register_invoke_transform)
        self.own: dict[str, list[Any]] = {}  # urn -> that resource's own Callback messages
        self.component_providers: dict[str, dict[str, str]] = {}  # component urn -> providers map

    def register_stack(self, callback: Any) -> None:
        with self._lock:
            self.stack.append(callback)

    def register_invoke(self, callback: Any) -> None:
        with self._lock:
            self.invoke_stack.append(callback)

    def invoke_chain(self) -> list[Any]:
        with self._lock:
            return list(self.invoke_stack)

    def remember(self, urn: str, request: Any) -> None:
        """After a registration: its own transforms apply to its children, and a component's
        providers map is what its children's provider is resolved from."""
        with self._lock:
            if request.transforms:
                self.own[urn] = list(request.transforms)
            if not request.custom and request.providers:
                self.component_providers[urn] = dict(request.providers)

    def chain(self, request: Any, parent_of: Callable[[str], str | None]) -> list[Any]:
        """Every transform that applies to this registration, in the engine's order."""
        with self._lock:
            out = list(request.transforms)
            current = request.parent or None
            seen: set[str] = set()
            while current and current not in seen:
                seen.add(current)
                out += self.own.get(current, [])
                current = parent_of(current)
            return out + self.stack

    def resolve_provider(self, request: Any, package: str) -> str:
        """The engine's resolveProvider: explicit, else the request's providers map, else the
        parent component's."""
        if request.provider:
            return str(request.provider)
        if package in request.providers:
            return str(request.providers[package])
        with self._lock:
            return self.component_providers.get(request.parent, {}).get(package, "")


def options_of(request: Any, provider: str) -> Any:
    """The TransformResourceOptions the engine builds from a RegisterResourceRequest."""
    from pulumi.runtime.proto import alias_pb2, resource_pb2

    opts = resource_pb2.TransformResourceOptions(
        depends_on=list(request.dependencies),
        ignore_changes=list(request.ignoreChanges),
        replace_on_changes=list(request.replaceOnChanges),
        version=request.version,
        aliases=[alias_pb2.Alias(urn=u) for u in request.aliasURNs] + list(request.aliases),
        provider=provider,
        providers=dict(request.providers),
        plugin_download_url=request.pluginDownloadURL,
        deleted_with=request.deletedWith,
        replace_with=list(request.replace_with),
        additional_secret_outputs=list(request.additionalSecretOutputs),
        plugin_checksums=dict(request.pluginChecksums),
        hide_diff=list(request.hideDiffs),
    )
    setattr(opts, "import", request.importId)
    if request.HasField("protect"):
        opts.protect = request.protect
    if request.HasField("retainOnDelete"):
        opts.retain_on_delete = request.retainOnDelete
    if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
        opts.delete_before_replace = request.deleteBeforeReplace
    if request.HasField("customTimeouts"):
        opts.custom_timeouts.CopyFrom(request.customTimeouts)
    if request.HasField("replacement_trigger"):
        opts.replacement_trigger.CopyFrom(request.replacement_trigger)
    if request.HasField("hooks"):
        opts.hooks.CopyFrom(request.hooks)
    return opts


def apply_options(request: Any, opts: Any, *, own_transforms: bool) -> None:
    """Write the transformed options back into the request, as the engine then reads them."""
    request.ClearField("aliasURNs")
    del request.aliases[:]
    request.aliases.extend(opts.aliases)
    request.provider = opts.provider
    request.providers.clear()
    request.providers.update(dict(opts.providers))
    if opts.HasField("protect"):
        request.protect = opts.protect
    else:
        request.ClearField("protect")
    request.ignoreChanges[:] = list(opts.ignore_changes)
    request.replaceOnChanges[:] = list(opts.replace_on_changes)
    if opts.HasField("retain_on_delete"):
        request.retainOnDelete = opts.retain_on_delete
    else:
        request.ClearField("retainOnDelete")
    request.deleteBeforeReplaceDefined = opts.HasField("delete_before_replace")
    request.deleteBeforeReplace = bool(opts.delete_before_replace)
    request.importId = getattr(opts, "import")
    request.additionalSecretOutputs[:] = list(opts.additional_secret_outputs)
    request.deletedWith = opts.deleted_with
    request.version = opts.version
    request.pluginDownloadURL = opts.plugin_download_url
    request.hideDiffs[:] = list(opts.hide_diff)
    if opts.HasField("custom_timeouts"):
        request.customTimeouts.CopyFrom(opts.custom_timeouts)
    else:
        request.ClearField("customTimeouts")
    if own_transforms:  # source_eval.go re-reads dependsOn only in this case
        request.dependencies[:] = list(opts.depends_on)


def run_chain(request: Any, chain: list[Any], provider: str, location: str | None) -> Any:
    """A copy of `request` with every transform of `chain` applied, in order."""
    from pulumi.runtime.proto import resource_pb2

    out = type(request)()
    out.CopyFrom(request)
    props = request.object if request.HasField("object") else None
    opts = options_of(request, provider)
    for callback in chain:
        message = resource_pb2.TransformRequest(
            name=request.name, type=request.type, parent=request.parent, custom=request.custom, options=opts
        )
        if props is not None:
            message.properties.CopyFrom(props)
        what = f"{request.type} {request.name!r}"
        response = _call(callback, message.SerializeToString(), location, what)
        if response.HasField("properties"):
            props = response.properties
        if response.HasField("options"):
            opts = response.options
    if props is not None:
        out.object.CopyFrom(props)
    apply_options(out, opts, own_transforms=bool(request.transforms))
    return out


def run_invoke_chain(request: Any, chain: list[Any], provider: str) -> Any:
    """A copy of a ResourceInvokeRequest with the stack's invoke transforms applied, as the
    engine's Invoke runs them before it loads the provider (source_eval.go, Invoke): each gets
    the token, the args and TransformInvokeOptions (provider, version, plugin URL, checksums)."""
    from pulumi.runtime.proto import resource_pb2

    out = type(request)()
    out.CopyFrom(request)
    args = request.args if request.HasField("args") else None
    opts = resource_pb2.TransformInvokeOptions(
        provider=provider,
        version=request.version,
        plugin_download_url=request.pluginDownloadURL,
        plugin_checksums=dict(request.pluginChecksums),
    )
    for callback in chain:
        message = resource_pb2.TransformInvokeRequest(token=request.tok, options=opts)
        if args is not None:
            message.args.CopyFrom(args)
        response = _call(
            callback,
            message.SerializeToString(),
            None,
            f"invoke {request.tok}",
            resource_pb2.TransformInvokeResponse,
        )
        if response.HasField("args"):
            args = response.args
        if response.HasField("options"):
            opts = response.options
    if args is not None:
        out.args.CopyFrom(args)
    out.provider = opts.provider
    out.version = opts.version
    out.pluginDownloadURL = opts.plugin_download_url
    return out


def _call(callback: Any, payload: bytes, location: str | None, what: str, response_type: Any = None) -> Any:
    from pulumi.runtime._callbacks import _CallbackServicer
    from pulumi.runtime.proto import resource_pb2

    response_type = response_type or resource_pb2.TransformResponse
    where = f"{location}: " if location else ""
    for servicer in list(_CallbackServicer._servicers):
        function: Callable[[bytes], Any] | None = servicer._callbacks.get(callback.token)
        if function is None:
            continue
        future = asyncio.run_coroutine_threadsafe(function(payload), servicer._loop)
        try:
            message = future.result(timeout=TRANSFORM_TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise InternalFailure(
                f"program error: {where}a transform of {what} did not return in {TRANSFORM_TIMEOUT:g}s"
            ) from None
        except Exception as exc:  # the program's transform raised: the engine fails the registration
            detail = " ".join(str(exc).split())[:300]
            raise InternalFailure(
                f"program error: {where}invoke transform of {what}: {type(exc).__name__}: {detail}"
            ) from None
        if isinstance(message, bytes):
            return response_type.FromString(message)
        return message
    raise InternalFailure(
        f"program error: {where}a transform of {what} is not registered with the program's "
        "callback service (preflight cannot run it, so it cannot judge what the engine would register)"
    )


def parents(records: Mapping[str, Any]) -> Callable[[str], str | None]:
    def parent_of(urn: str) -> str | None:
        record = records.get(urn)
        return getattr(record, "parent", None) if record is not None else None

    return parent_of
