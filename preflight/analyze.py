"""Analysis: the real policy pack, started as the Pulumi CLI starts it, over the Analyzer gRPC protocol.

The CLI starts a Python pack as `python -u -m pulumi.policy <engine-address> .` in the pack
directory (its virtualenv's python when `PulumiPolicy.yaml` names one), with the stack's
config in `PULUMI_CONFIG` and `PULUMI_PROJECT`/`PULUMI_STACK`/`PULUMI_DRY_RUN` set, reads the
port from the first line of its stdout and then calls: ConfigureStack, GetAnalyzerInfo,
Configure (each policy's enforcement level and properties: the pack's initial config, the
schema defaults, then the user's policy config, validated), Analyze for every resource with
its inputs and its provider's inputs, and AnalyzeStack with every resource's outputs,
parent and dependencies. This module does exactly that. (Remediate is not called: a
remediation changes what would be deployed, which offline preflight cannot do; a
remediate-only policy therefore reports nothing here.)

Fail closed, always. The pack not starting, exiting, printing something that is not its
port, an RPC error (a policy raised), an RPC that outlives the timeout, a malformed answer:
each is an `InternalFailure` (exit 3) with one line naming the pack and what happened. A
"can't run policy during preview" diagnostic (the SDK's answer to unknown values) becomes a
mandatory finding: something that could not be checked never passes the gate.

Streaming: `AnalysisSession.submit` is synth's `on_resource` callback. It only queues; a
dispatcher thread sends Analyze calls (a bounded number in flight) while the program is still
registering resources, so by the time synthesis ends most of the analysis is done too. The
bound is generous (64): the dispatcher and the gRPC callbacks run in this process and wait for
the GIL the program holds, so with only a few calls in flight the pack sits idle between
them (measured: 8 in flight left ~85% of a 500-resource estate for after synthesis, 64 ~10%).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from google.protobuf import empty_pb2, json_format, struct_pb2

from preflight import processes
from preflight.errors import BadInput, InternalFailure, PreflightError
from preflight.model import Enforcement, Finding, ResourceRecord, Severity
from preflight.project import SECRET_PLACEHOLDER, read_json, read_yaml
from preflight.synth import STACK_TYPE, UNKNOWN_PLACEHOLDER

DEFAULT_TIMEOUT = 120.0
# How long a pack may take to start and print its port, whatever the per-call --timeout.
START_TIMEOUT = 30.0
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a wire signature
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_MAX_MESSAGE = 400 * 1024 * 1024  # what pulumi-policy accepts
_LEVELS = ("advisory", "mandatory", "disabled", "remediate")  # proto enum order
_SEVERITIES: tuple[Severity | None, ...] = (None, "low", "medium", "high", "critical")
_HASH_SKIP = {"__pycache__", ".venv", "venv", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
# How a finding names the waiver that downgraded it: "waiver 'legacy-sg'" (quoted, as the
# pack's residency-waived policy and the fixture packs write it).
_WAIVER = re.compile(r"waiver\s+(?:for\s+)?['\"`](?P<target>[^'\"`\s]+)['\"`]", re.IGNORECASE)
# ...but a finding *about* a waiver is not waived: the pack's residency-waiver-expiry policy starts
# its messages with the waiver (Waiver.describe: "waiver 'x' (owner ..., expires ...)", or
# "waiver 'x' matches no resource"); those are warnings to act on, never suppressed.
_ABOUT_WAIVER = re.compile(r"waiver\s+['\"`][^'\"`\s]+['\"`]\s+(?:\(owner\b|matches no\b)", re.IGNORECASE)
_END = object()


@dataclass
class AnalysisResult:
    findings: list[Finding]
    pack_name: str
    pack_version: str
    pack_hash: str  # sha256 over the pack directory's files (see pack_content_hash)
    policies: list[dict[str, Any]] = field(default_factory=list)  # metadata from GetAnalyzerInfo
    resources_analyzed: int = 0
    seconds: float = 0.0  # wall time from starting the pack to the last answer
    notes: list[str] = field(default_factory=list)  # how the pack was run, when it matters

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [f.to_dict() for f in self.findings]
        return data


# --------------------------------------------------------------------------- pack on disk


@dataclass(frozen=True)
class PackManifest:
    dir: Path
    python: str
    version: str | None
    description: str | None


def read_manifest(pack_dir: Path) -> PackManifest:
    try:
        pack_dir = Path(pack_dir).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop (Python 3.11 pathlib)
        raise BadInput(f"--policy-pack: {pack_dir}: cannot resolve: {exc}") from None
    manifest = pack_dir / "PulumiPolicy.yaml"
    if not pack_dir.is_dir():
        raise BadInput(f"--policy-pack: {pack_dir}: no such directory")
    if not manifest.exists() and not manifest.is_symlink():
        raise BadInput(f"--policy-pack: {pack_dir}: not a policy pack (no PulumiPolicy.yaml)")
    doc = read_yaml(manifest)
    if not isinstance(doc, Mapping):
        raise BadInput(f"{manifest}: must be a mapping with runtime:")
    runtime = doc.get("runtime")
    name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
    if name != "python":
        raise BadInput(f"{manifest}: runtime: {name!r}; preflight runs Python policy packs")
    options = runtime.get("options") if isinstance(runtime, Mapping) else None
    python = sys.executable
    venv = options.get("virtualenv") if isinstance(options, Mapping) else None
    if venv:
        candidate = (pack_dir / str(venv)).resolve()
        exe = candidate / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if not exe.exists():
            raise InternalFailure(f"policy pack {pack_dir.name}: its virtualenv {candidate} does not exist")
        python = str(exe)
    version = doc.get("version")
    description = doc.get("description")
    return PackManifest(
        dir=pack_dir,
        python=python,
        version=str(version) if version is not None else None,
        description=str(description) if description is not None else None,
    )


def pack_content_hash(pack_dir: Path) -> str:
    """sha256 over every file of the pack (relative path, NUL, content, NUL), sorted; caches skipped."""
    root = Path(pack_dir).resolve()
    digest = hashlib.sha256()
    files = []
    # os.walk, pruned: the pack's own virtualenv (policies/.venv, thousands of files) is never walked.
    for here, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _HASH_SKIP and not d.startswith(".")]
        for name in names:
            path = Path(here) / name
            if name.startswith(".") or path.suffix in (".pyc", ".pyo") or not path.is_file():
                continue
            files.append(path.relative_to(root).as_posix())
    for rel_name in sorted(files):
        digest.update(rel_name.encode() + b"\0")
        try:
            digest.update((root / rel_name).read_bytes() + b"\0")
        except OSError as exc:  # what cannot be read cannot be attested
            raise BadInput(f"--policy-pack: {root / rel_name}: cannot read: {exc.strerror or exc}") from None
    return "sha256:" + digest.hexdigest()


# --------------------------------------------------------------------------- policy config


def _enforcement_name(level: int) -> str:
    return _LEVELS[level] if 0 <= level < len(_LEVELS) else "mandatory"


def build_policy_config(info: Any, user: Mapping[str, Any] | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each policy's (enforcement level, properties), as the CLI reconciles them.

    Start from the policy's own level, apply the pack's initial config, fill schema defaults,
    then the user's config (`{"all": level, "<policy>": level | {"enforcementLevel": ..., ...}}`).
    Unknown policy names, invalid levels and missing required properties are bad input.
    """
    source = getattr(user, "source", "policy config")  # names the file when it came from one
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    by_name = {p.name: p for p in info.policies}
    user = dict(user or {})
    unknown = sorted(k for k in user if k != "all" and k not in by_name)
    if unknown:
        raise BadInput(f"{source}: {unknown[0]}: no such policy in pack {info.name}")

    def level_of(value: Any, where: str) -> str:
        if value not in ("advisory", "mandatory", "disabled", "remediate"):
            raise BadInput(f"{source}: {where}: {value!r} is not advisory, mandatory, remediate or disabled")
        return str(value)

    for name, policy in by_name.items():
        level = _enforcement_name(policy.enforcementLevel)
        props: dict[str, Any] = {}
        schema = json_format.MessageToDict(policy.configSchema.properties) if policy.configSchema else {}
        for prop, spec in schema.items():
            if isinstance(spec, dict) and "default" in spec:
                props[prop] = spec["default"]
        if name in info.initialConfig:
            initial = info.initialConfig[name]
            if initial.enforcementLevel:
                level = _enforcement_name(initial.enforcementLevel)
            props.update(json_format.MessageToDict(initial.properties))
        if "all" in user:
            level = level_of(user["all"], "all")
        if name in user:
            value = user[name]
            if isinstance(value, str):
                level = level_of(value, name)
            elif isinstance(value, Mapping):
                if "enforcementLevel" in value:
                    level = level_of(value["enforcementLevel"], f"{name}.enforcementLevel")
                props.update({k: v for k, v in value.items() if k != "enforcementLevel"})
            else:
                raise BadInput(f"{source}: {name}: must be an enforcement level or a mapping")
        if name in user and isinstance(user[name], Mapping):
            for prop, value in user[name].items():
                if prop != "enforcementLevel" and isinstance(schema.get(prop), dict):
                    _check_type(value, schema[prop], f"{source}: {name}.{prop}")
        unknown_props = sorted(set(props) - set(schema)) if schema else []
        if unknown_props and name in user:
            raise BadInput(f"{source}: {name}.{unknown_props[0]}: not in the policy's config schema")
        missing = [r for r in (policy.configSchema.required if policy.configSchema else []) if r not in props]
        if missing and level != "disabled":
            raise BadInput(f"{source}: {name}.{missing[0]}: required by the policy")
        result[name] = (level, props)
    return result


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check_type(value: Any, spec: Mapping[str, Any], where: str) -> None:
    """A property of the wrong JSON-schema `type` (and, for arrays, of the wrong item type) is bad
    input naming the key, not a policy that crashes mid-Analyze (exit 3) on `5 in allowed`."""
    wanted = spec.get("type")
    names = [wanted] if isinstance(wanted, str) else [w for w in wanted or [] if isinstance(w, str)]
    if names:
        ok = value is None if "null" in names else False
        for n in names:
            kinds = _JSON_TYPES.get(n)
            if (
                kinds is not None
                and isinstance(value, kinds)
                and not (n != "boolean" and isinstance(value, bool))
            ):
                ok = ok or n != "integer" or float(cast(float, value)).is_integer()
        if not ok:
            raise BadInput(f"{where}: {value!r} is not of type {' or '.join(names)}")
    items = spec.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        for index, item in enumerate(value):
            _check_type(item, items, f"{where}[{index}]")


# --------------------------------------------------------------------------- wire helpers


def _wire(value: Any) -> Any:
    if isinstance(value, str):
        if value == SECRET_PLACEHOLDER:
            return {_SIG: _SECRET_SIG, "value": value}
        return _UNKNOWN if value == UNKNOWN_PLACEHOLDER else value
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(_wire(dict(props)))
    return s


def _options(record: ResourceRecord, proto: Any) -> Any:
    opts = record.options
    return proto.AnalyzerResourceOptions(
        protect=record.protect,
        ignoreChanges=list(opts.get("ignoreChanges", [])),
        deleteBeforeReplace=bool(opts.get("deleteBeforeReplace", False)),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in opts,
        additionalSecretOutputs=list(opts.get("additionalSecretOutputs", [])),
        aliases=list(opts.get("aliases", [])),
        parent=record.parent or "",
    )


def _provider(record: ResourceRecord, providers: Mapping[str, ResourceRecord], proto: Any) -> Any:
    prov = providers.get(record.provider or "")
    if prov is None:
        return None
    return proto.AnalyzerProviderResource(
        type=prov.type, urn=prov.urn, name=prov.name, properties=to_struct(prov.inputs)
    )


def analyze_request(record: ResourceRecord, providers: Mapping[str, ResourceRecord]) -> Any:
    """The AnalyzeRequest for one record, as the engine sends it while the program runs (inputs).

    `providers`: provider records by their reference ("urn::id"), for the request's provider.
    """
    from pulumi.runtime.proto import analyzer_pb2 as proto

    return proto.AnalyzeRequest(
        urn=record.urn,
        type=record.type,
        name=record.name,
        properties=to_struct(record.inputs),
        options=_options(record, proto),
        provider=_provider(record, providers, proto),
    )


def stack_request(records: list[ResourceRecord], providers: Mapping[str, ResourceRecord]) -> Any:
    """The AnalyzeStackRequest for the whole stack, as the engine sends it at the end (outputs)."""
    from pulumi.runtime.proto import analyzer_pb2 as proto

    return proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                properties=to_struct(r.outputs),
                options=_options(r, proto),
                provider=_provider(r, providers, proto),
                parent=r.parent or "",
                dependencies=list(r.dependencies),
                propertyDependencies={
                    k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()
                },
            )
            for r in records
        ]
    )


# --------------------------------------------------------------------------- the pack process


# Linux's limit on one environment string (MAX_ARG_STRLEN, 32 pages of 4 KiB).
_MAX_ENV_STRING = 128 * 1024
_CONFIG_FILE_ENV = "PREFLIGHT_PULUMI_CONFIG_FILE"
_LAUNCHER = (
    "import os, runpy, sys\n"
    f"path = os.environ.pop({_CONFIG_FILE_ENV!r})\n"
    "with open(path, encoding='utf-8') as fh:\n"
    "    os.environ['PULUMI_CONFIG'] = fh.read()\n"
    "os.unlink(path)\n"
    "sys.argv = ['pulumi.policy', *sys.argv[1:]]\n"
    "runpy.run_module('pulumi.policy', run_name='__main__', alter_sys=True)\n"
)


class PolicyPackProcess:
    """One running pack: started like the CLI starts it, talked to over gRPC, always cleaned up."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        timeout: float,
        stack: str,
        project: str,
        stack_config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
    ) -> None:
        self.manifest = read_manifest(pack_dir)
        self.timeout = timeout
        self.stack = stack
        self.project = project
        self.stack_config = dict(stack_config or {})
        self.secret_keys = list(secret_keys)
        self.label = f"policy pack {self.manifest.dir.name}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.configured: dict[str, str] = {}  # policy name -> enforcement level set by the config
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self.channel: Any = None
        self.stub: Any = None
        self.info: Any = None
        self.name = self.manifest.dir.name
        self.version = self.manifest.version or ""
        self.config_dir: Path | None = None  # private hand-over of a config too large for env
        self.notes: list[str] = []  # said once in the report's offline notes

    # -- lifecycle

    def start(self, policy_config: Mapping[str, Any] | None) -> None:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2 as proto
        from pulumi.runtime.proto import analyzer_pb2_grpc

        env = dict(os.environ)
        # As the engine's constructEnv (pkg/resource/plugin/analyzer_plugin.go) starts a pack:
        # the stack config in PULUMI_CONFIG, project, stack and dry run beside it.
        config_json = json.dumps(self.stack_config)
        env.update(
            {
                "PULUMI_CONFIG": config_json,
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(self.secret_keys),
                "PULUMI_PROJECT": self.project,
                "PULUMI_STACK": self.stack,
                "PULUMI_DRY_RUN": "true",
                "PULUMI_ORGANIZATION": "organization",
                "PYTHONUNBUFFERED": "1",
            }
        )
        # No engine runs here; the pack only needs an address to parse (its logs go to stderr).
        cmd = [self.manifest.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."]
        if len("PULUMI_CONFIG=") + len(config_json.encode()) >= _MAX_ENV_STRING:
            cmd = self._large_config_launch(env, config_json)
        try:
            # Its own process group, owned by preflight.processes: a cancel or close ends it all.
            self.proc = processes.popen(
                cmd,
                cwd=self.manifest.dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise InternalFailure(f"{self.label} could not start: {exc}") from None
        assert self.proc.stdout is not None and self.proc.stderr is not None
        port_lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stdout, args=(self.proc.stdout, port_lines), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True).start()
        # Starting is not a call: importing pulumi, grpc and the policies takes seconds on a busy
        # runner, so a short per-call --timeout would fail a healthy pack before it could answer.
        # A pack that prints no port is still ended, after the longer of the two budgets.
        start_budget = max(self.timeout, START_TIMEOUT)
        try:
            first = port_lines.get(timeout=start_budget)
        except queue.Empty:
            raise InternalFailure(f"{self.label} did not print its port within {start_budget:g}s") from None
        if first is None:
            raise self._died("exited before it started")
        if not first.strip().isdigit():
            raise InternalFailure(f"{self.label} printed {first.strip()[:80]!r} instead of its port")
        options = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ]
        self.channel = grpc.insecure_channel(f"127.0.0.1:{int(first)}", options=options)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        request = proto.AnalyzerStackConfigureRequest(
            stack=self.stack,
            project=self.project,
            organization="organization",
            dry_run=True,
            config=self.stack_config,
            config_secret_keys=self.secret_keys,
        )
        self.call("ConfigureStack", request, tolerate_unimplemented=True)
        self.info = self.call("GetAnalyzerInfo", empty_pb2.Empty())
        if not isinstance(self.info.name, str) or not self.info.name:
            raise InternalFailure(f"{self.label} returned no name from GetAnalyzerInfo")
        self.name = self.info.name
        self.version = self.manifest.version or self.info.version or ""
        self.label = f"policy pack {self.name}"
        config = build_policy_config(self.info, policy_config)
        self.configured = {name: level for name, (level, _props) in config.items()}
        if config:
            request = proto.ConfigureAnalyzerRequest()
            for name, (level, props) in config.items():
                entry = request.policyConfig[name]
                entry.enforcementLevel = _LEVELS.index(level)
                entry.properties.update(props)
            self.call("Configure", request)

    def _large_config_launch(self, env: dict[str, str], config_json: str) -> list[str]:
        """Config too large for one environment string: exec would fail with E2BIG. Hand it
        over in a private file that a two-line launcher reads into the pack's own
        PULUMI_CONFIG (and deletes) before the policy SDK's main runs, so the pack sees exactly
        what the engine would give it. Said out loud: the Pulumi CLI passes config this way
        only in the environment, so on Linux `pulumi preview --policy-pack` could not start
        this pack at all."""
        self.config_dir = Path(tempfile.mkdtemp(prefix="preflight-pack-config-"))
        path = self.config_dir / "config.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(config_json)
        del env["PULUMI_CONFIG"]
        env[_CONFIG_FILE_ENV] = str(path)
        size = len(config_json.encode()) // 1024
        self.notes.append(
            f"stack config is {size} KiB: the Pulumi CLI passes a policy pack its config in one "
            "environment variable (PULUMI_CONFIG), and Linux refuses one over 128 KiB "
            "(MAX_ARG_STRLEN), so `pulumi preview --policy-pack` would fail to start this pack; "
            "preflight handed it over in a file"
        )
        return [self.manifest.python, "-u", "-c", _LAUNCHER, "127.0.0.1:0", "."]

    def close(self) -> None:
        if self.config_dir is not None:
            shutil.rmtree(self.config_dir, ignore_errors=True)
            self.config_dir = None
        if self.channel is not None:
            with contextlib.suppress(Exception):
                self.channel.close()
        if self.proc is not None:
            processes.end(self.proc, grace=3.0)  # the whole group, even if the leader already exited

    def _read_stdout(self, stream: Any, lines: queue.Queue[str | None]) -> None:
        first = True
        for raw in iter(stream.readline, b""):
            if first:
                lines.put(raw.decode(errors="replace"))
                first = False
        if first:
            lines.put(None)
        stream.close()

    def _read_stderr(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            if line.strip():
                self.stderr_tail.append(line.strip())
        stream.close()

    # -- errors

    def _died(self, what: str) -> InternalFailure:
        code = None
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(timeout=2)
        time.sleep(0.05)  # let the stderr reader catch the last lines
        last = self._last_error_line()
        status = f" (exit code {code})" if code is not None else ""
        return InternalFailure(
            f"{self.label} {what}{status}: {last}" if last else f"{self.label} {what}{status}"
        )

    def _last_error_line(self) -> str:
        lines = [ln for ln in self.stderr_tail if not ln.startswith(("File ", "Traceback", "^", "~"))]
        return lines[-1][:300] if lines else ""

    def rpc_error(self, method: str, exc: Any, subject: str = "") -> InternalFailure:
        import grpc

        about = f" for {subject}" if subject else ""
        code = exc.code() if hasattr(exc, "code") else None
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return InternalFailure(f"{self.label} did not answer {method}{about} within {self.timeout:g}s")
        if self.proc is not None and self.proc.poll() is not None:
            return self._died(f"crashed during {method}{about}")
        if code == grpc.StatusCode.UNAVAILABLE:
            return self._died(f"became unreachable during {method}{about}")
        details = " ".join(str(exc.details() if hasattr(exc, "details") else exc).split())
        details = details.removeprefix("Exception calling application: ")
        return InternalFailure(f"{self.label} failed in {method}{about}: {details[:300]}")

    def call(
        self, method: str, request: Any, *, tolerate_unimplemented: bool = False, subject: str = ""
    ) -> Any:
        import grpc

        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            if tolerate_unimplemented and exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise self.rpc_error(method, exc, subject) from None

    # -- policy metadata

    def policies(self) -> list[dict[str, Any]]:
        out = []
        for p in self.info.policies if self.info is not None else []:
            framework = None
            if p.HasField("framework") and p.framework.name:
                framework = {
                    "name": p.framework.name,
                    "version": p.framework.version,
                    "reference": p.framework.reference,
                }
            out.append(
                {
                    "name": p.name,
                    "displayName": p.displayName or p.name,
                    "description": p.description,
                    # as configured for this run (GetAnalyzerInfo was asked before Configure)
                    "enforcement": self.configured.get(p.name, _enforcement_name(p.enforcementLevel)),
                    "severity": _SEVERITIES[p.severity] if 0 < p.severity < len(_SEVERITIES) else None,
                    "type": {1: "resource", 2: "stack"}.get(p.policy_type, "unknown"),
                    "remediation": p.remediation_steps,
                    "url": p.url,
                    "framework": framework,
                }
            )
        return out


# --------------------------------------------------------------------------- session


class AnalysisSession:
    """Analyze resources as they are registered; `finish` adds AnalyzeStack and returns the findings.

    Use as a context manager (the pack process is always stopped), pass `submit` as synth's
    `on_resource`, then call `finish(result.resources)`.
    """

    def __init__(
        self,
        pack_dir: Path,
        *,
        config: Mapping[str, Any] | None,
        timeout: float,
        stack: str,
        project: str,
        stack_config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
        max_in_flight: int = 64,
    ) -> None:
        self.pack = PolicyPackProcess(
            pack_dir,
            timeout=timeout,
            stack=stack,
            project=project,
            stack_config=stack_config,
            secret_keys=secret_keys,
        )
        self.policy_config = config
        self.timeout = timeout
        self.queue: queue.Queue[Any] = queue.Queue()
        self.slots = threading.BoundedSemaphore(max_in_flight)
        self.max_in_flight = max_in_flight
        self.lock = threading.Lock()
        self.error: PreflightError | None = None
        self.diagnostics: list[tuple[str, Any]] = []  # (analyzed urn, diagnostic)
        self.providers: dict[str, ResourceRecord] = {}
        self.submitted: set[str] = set()
        self.in_flight: set[Any] = set()  # Analyze futures not yet answered (cancelled on failure)
        self.analyzed = 0
        self.started_at = 0.0
        self.thread: threading.Thread | None = None
        self.ready = threading.Event()

    def __enter__(self) -> AnalysisSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.started_at = time.perf_counter()
        self.thread = threading.Thread(target=self._dispatch, name="preflight-analyze", daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.queue.put(_END)
            self.thread.join(timeout=self.timeout + 5)
        self.pack.close()

    def submit(self, record: ResourceRecord) -> None:
        """synth's on_resource: queue only (it runs on the program's worker thread).

        Once the pack has failed, raise its error: synthesis stops instead of finishing a
        program whose result can no longer be checked.
        """
        if self.error is not None:
            raise self.error
        self.submitted.add(record.urn)
        self.queue.put(record)

    def wait_ready(self) -> None:
        """Block until the pack has started and been configured (raises its start-up failure)."""
        self.ready.wait()
        if self.error is not None:
            raise self.error

    def _fail(self, error: PreflightError) -> None:
        """The first failure wins; after it nothing more is sent and the calls in flight are
        cancelled (a hung pack costs one --timeout, not one per batch of calls)."""
        with self.lock:
            if self.error is None:
                self.error = error
            pending = list(self.in_flight)
        for future in pending:
            future.cancel()

    def _dispatch(self) -> None:
        try:
            self.pack.start(self.policy_config)
        except PreflightError as exc:
            self._fail(exc)
        except Exception as exc:  # an unexpected failure to start is still a failure to check
            self._fail(InternalFailure(f"{self.pack.label} could not start: {type(exc).__name__}: {exc}"))
        finally:
            self.ready.set()
        while True:
            item = self.queue.get()
            if item is _END:
                return
            record: ResourceRecord = item
            if self.error is not None:
                continue
            if record.type.startswith("pulumi:providers:") and record.id:
                self.providers[f"{record.urn}::{record.id}"] = record
            request = analyze_request(record, self.providers)
            self.slots.acquire()
            if self.error is not None:  # failed while this call waited for a slot: do not send it
                self.slots.release()
                continue
            try:
                future = self.pack.stub.Analyze.future(request, timeout=self.timeout)
            except Exception as exc:
                self.slots.release()
                self._fail(self.pack.rpc_error("Analyze", exc, record.urn))
                continue
            with self.lock:
                self.in_flight.add(future)
            future.add_done_callback(lambda f, urn=record.urn: self._done(urn, f))

    def _done(self, urn: str, future: Any) -> None:
        with self.lock:
            self.in_flight.discard(future)
        try:
            if future.cancelled():
                return  # cancelled by _fail: the first failure is the one reported
            exc = future.exception()
            if exc is not None:
                self._fail(self.pack.rpc_error("Analyze", exc, urn))
                return
            response = future.result()
            with self.lock:
                self.analyzed += 1
                self.diagnostics.extend((urn, d) for d in response.diagnostics)
        except Exception as err:  # a malformed answer
            self._fail(InternalFailure(f"{self.pack.label} answered Analyze for {urn} with garbage: {err}"))
        finally:
            self.slots.release()

    def _drain(self) -> None:
        """Wait until every queued record was sent and every Analyze call has answered."""
        assert self.thread is not None
        self.queue.put(_END)
        self.thread.join()
        for _ in range(self.max_in_flight):
            self.slots.acquire()
        for _ in range(self.max_in_flight):
            self.slots.release()

    def finish(self, resources: list[ResourceRecord], stack_urn: str | None = None) -> AnalysisResult:
        if self.thread is None:
            self.start()
        for r in resources:
            if r.urn not in self.submitted and self.error is None:
                self.submit(r)
        self._drain()
        if self.error is not None:
            raise self.error
        stack_urn = stack_urn or next((r.urn for r in resources if r.type == STACK_TYPE), "")
        request = stack_request(resources, self.providers)
        response = self.pack.call("AnalyzeStack", request, tolerate_unimplemented=True)
        diagnostics = list(self.diagnostics)
        if response is not None:
            diagnostics.extend((stack_urn, d) for d in response.diagnostics)
        findings = self._findings(diagnostics, {r.urn: r for r in resources})
        return AnalysisResult(
            findings=findings,
            pack_name=self.pack.name,
            pack_version=self.pack.version,
            pack_hash=pack_content_hash(self.pack.manifest.dir),
            policies=self.pack.policies(),
            resources_analyzed=self.analyzed,
            seconds=round(time.perf_counter() - self.started_at, 3),
            notes=list(self.pack.notes),
        )

    def _findings(
        self, diagnostics: list[tuple[str, Any]], by_urn: Mapping[str, ResourceRecord]
    ) -> list[Finding]:
        severities: dict[str, Severity | None] = {p["name"]: p["severity"] for p in self.pack.policies()}
        descriptions = {p["name"]: p["description"] for p in self.pack.policies()}
        out = []
        for analyzed_urn, d in diagnostics:
            urn = d.urn or analyzed_urn
            if not isinstance(d.policyName, str) or not d.policyName:
                raise InternalFailure(
                    f"{self.pack.label} returned a diagnostic without a policy name for {urn}"
                )
            level = _enforcement_name(d.enforcementLevel)
            enforcement: Enforcement = (
                "advisory" if level == "advisory" else "disabled" if level == "disabled" else "mandatory"
            )
            message = str(d.message)
            description = descriptions.get(d.policyName) or d.description
            if description and message.startswith(description + "\n"):
                message = message[len(description) + 1 :]
            message = " ".join(message.split())
            if message.startswith("can't run policy"):
                # The SDK's answer to unknown values: not checked means not passed.
                enforcement = "mandatory"
                message = f"could not be checked: {message}"
            severity: Severity = (
                (_SEVERITIES[d.severity] if 0 < d.severity < len(_SEVERITIES) else None)
                or severities.get(d.policyName)
                or "medium"
            )
            record = by_urn.get(urn)
            type_, name = (record.type, record.name) if record else _split_urn(urn)
            waiver = None
            if enforcement == "advisory" and not _ABOUT_WAIVER.match(message):
                m = _WAIVER.search(message)
                waiver = m.group("target") if m else None
            out.append(
                Finding(
                    source=self.pack.name,
                    policy=d.policyName,
                    enforcement=enforcement,
                    severity=severity,
                    urn=urn,
                    type=type_,
                    name=name,
                    region=record.region if record else None,
                    message=message or description or d.policyName,
                    location=record.location if record else None,
                    waiver=waiver,
                )
            )
        order = {r: i for i, r in enumerate(by_urn)}
        out.sort(key=lambda f: (not f.blocking, order.get(f.urn, len(order)), f.policy, f.message))
        return out


def _split_urn(urn: str) -> tuple[str, str]:
    parts = urn.split("::")
    if len(parts) >= 4:
        return parts[2].split("$")[-1], "::".join(parts[3:])
    return "", urn


def analyze(
    resources: list[ResourceRecord],
    *,
    pack_dir: Path,
    config: dict[str, Any] | None,
    timeout: float,
    stack: str,
    project: str,
    stack_config: Mapping[str, str] | None = None,
) -> AnalysisResult:
    """Run the pack over already-synthesized resources (no streaming)."""
    with AnalysisSession(
        pack_dir, config=config, timeout=timeout, stack=stack, project=project, stack_config=stack_config
    ) as session:
        for r in resources:
            session.submit(r)
        return session.finish(resources)


class PolicyConfig(dict[str, Any]):
    """A `--policy-config` file's content, remembering which file it came from for messages."""

    source = "policy config"


def load_policy_config(path: Path) -> PolicyConfig:
    """`--policy-config FILE`: JSON, policy name -> level or {enforcementLevel, properties...}."""
    shown = f"--policy-config {path}"
    data = read_json(Path(path), shown)  # bounded: size, depth; a FIFO or device is refused
    if not isinstance(data, dict):
        raise BadInput(f"{shown}: must be a JSON object (policy name -> config)")
    config = PolicyConfig(data)
    config.source = shown
    return config
