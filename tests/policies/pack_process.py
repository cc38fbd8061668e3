"""The policy pack as a plugin process, started exactly as the Pulumi CLI starts it.

The CLI reads PulumiPolicy.yaml, resolves `runtime.options.virtualenv` against the pack
directory (its `pulumi-analyzer-policy-python` shim does `$PWD/<virtualenv>`), and runs
`<virtualenv>/bin/python -u -m pulumi.policy <engine-address> .` with the pack directory as
working directory. The pack prints its gRPC port on stdout. The engine address is a real
gRPC server here too: a minimal Engine service that records log messages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import venv
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from stacks.policy_config import PACK_DIR

START_TIMEOUT = 60.0


class FakeEngine(engine_pb2_grpc.EngineServicer):
    """The engine's side of a plugin: it receives logs (and root-resource calls)."""

    def __init__(self) -> None:
        self.logs: list[tuple[int, str]] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.logs.append((request.severity, request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


def copy_pack(dest: Path, venv_dir: Path | None = None) -> Path:
    """Only the pack's folder, copied to `dest` as `pulumi policy publish` would take it: the
    files of `policies/`, without the in-repo `.venv` link and byte-code caches (.pulumiignore).

    Its `.venv` (PulumiPolicy.yaml's virtualenv) is `venv_dir` when given (what the CLI builds
    for an installed pack), else a link to the environment running the tests."""
    shutil.copytree(PACK_DIR, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", "*.pyc"))
    (dest / ".venv").symlink_to(venv_dir or Path(sys.prefix), target_is_directory=True)
    return dest


def _requirement_names(requirement_file: Path) -> dict[str, str]:
    """{normalised distribution name: pinned version} of a `name==version` requirements file."""
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for line in requirement_file.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and name.strip() and version.strip(), f"{requirement_file}: {line!r} is not name==version"
        pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def requirements_only_virtualenv(dest: Path, requirement_file: Path) -> Path:
    """A virtualenv holding only the distributions `requirement_file` pins and what they require.

    The CLI builds an installed pack's virtualenv from its requirements.txt (PulumiPolicy.yaml);
    no index is reached here: each distribution is linked from the environment running the tests
    (which has the same pins, uv.lock), and a pin that differs from what is installed
    fails. Nothing else is importable in it: not this repository (its editable install is not
    linked), not the project's other dependencies (pulumi_oci, rich, ...)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = _requirement_names(requirement_file)
    wanted = list(pins)
    seen: dict[str, metadata.Distribution] = {}
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        dist = metadata.distribution(name)
        if name in pins:
            assert dist.version == pins[name], f"{name}: installed {dist.version}, pinned {pins[name]}"
        seen[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                wanted.append(canonicalize_name(req.name))
    venv.EnvBuilder(with_pip=False, symlinks=True).create(dest)
    site = next(dest.glob("lib/python*/site-packages")) if os.name != "nt" else dest / "Lib" / "site-packages"
    for dist in seen.values():
        source = Path(str(dist.locate_file("")))
        entries = set()
        for f in dist.files or []:
            parts = Path(str(f)).parts
            if parts[0] in ("..", "__pycache__") or parts[0].endswith(".pth"):
                continue
            # A namespace package (`google/`, no __init__.py) is shared: link only this one's part.
            shared = (
                len(parts) > 2
                and (source / parts[0]).is_dir()
                and not (source / parts[0] / "__init__.py").exists()
            )
            entries.add(Path(*parts[:2]) if shared else Path(parts[0]))
        for entry in sorted(entries):
            if (source / entry).exists() and not (site / entry).exists():
                (site / entry).parent.mkdir(parents=True, exist_ok=True)
                (site / entry).symlink_to(source / entry)
    return dest


def pack_python(pack_dir: Path = PACK_DIR) -> Path:
    """The interpreter the CLI would use: PulumiPolicy.yaml's virtualenv, relative to the pack."""
    spec = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    runtime = spec["runtime"]
    assert runtime["name"] == "python", runtime
    venv = runtime.get("options", {}).get("virtualenv")
    if not venv:
        return Path(sys.executable)
    root = Path(venv) if os.path.isabs(venv) else pack_dir / venv
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@dataclass
class PackProcess:
    process: subprocess.Popen[bytes]
    port: int
    channel: grpc.Channel
    stub: analyzer_pb2_grpc.AnalyzerStub
    engine: FakeEngine
    stderr: list[str] = field(default_factory=list)


@contextmanager
def start_pack(env: Mapping[str, str] | None = None, pack_dir: Path = PACK_DIR) -> Iterator[PackProcess]:
    engine = FakeEngine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    engine_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    child_env.update(env or {})
    proc = subprocess.Popen(
        [str(pack_python(pack_dir)), "-u", "-m", "pulumi.policy", f"127.0.0.1:{engine_port}", "."],
        cwd=pack_dir,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stderr: list[str] = []
    drain = threading.Thread(
        target=lambda: stderr.extend(
            line.decode(errors="replace") for line in iter(proc.stderr.readline, b"")
        ),  # type: ignore[union-attr]
        daemon=True,
    )
    drain.start()
    first: list[bytes] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT)
    try:
        if not first or not first[0].strip().isdigit():
            proc.kill()
            proc.wait(10)
            raise RuntimeError(f"the pack did not print its port: {first!r}\n{''.join(stderr)}")
        port = int(first[0].strip())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
        yield PackProcess(proc, port, channel, analyzer_pb2_grpc.AnalyzerStub(channel), engine, stderr)
        channel.close()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        server.stop(0)
