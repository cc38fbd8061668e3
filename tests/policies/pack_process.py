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


def copy_pack(dest: Path, *, synced: bool = False) -> Path:
    """Only the pack's folder, copied to `dest` as `pulumi policy publish` would take it: the
    files of `policies/`, without its `.venv` and byte-code caches (.pulumiignore).

    Its `.venv` (PulumiPolicy.yaml's virtualenv) is, with `synced`, built from the copy's own
    pyproject.toml and uv.lock as the CLI builds it for an installed pack; else a link to the
    environment running the tests."""
    shutil.copytree(PACK_DIR, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", "*.pyc"))
    if synced:
        uv_synced_virtualenv(dest)
    else:
        (dest / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return dest


def uv_synced_virtualenv(pack: Path) -> Path:
    """`pack/.venv` built as the CLI builds an installed pack's virtualenv: `uv sync` in the pack's
    folder with UV_PROJECT_ENVIRONMENT set to PulumiPolicy.yaml's `virtualenv`
    (pkg/backend/httpstate/policypack.go installRequiredPolicy, sdk/python/toolchain/uv.go), here
    with `--locked` so a lock that disagrees with policies/pyproject.toml fails. It holds only the
    pack's locked dependencies: not this repository, not the project's other dependencies."""
    import dev

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    env["UV_PROJECT_ENVIRONMENT"] = str(pack / ".venv")
    cmd = [dev.find_uv(), "sync", "--locked", "--quiet", "--python", sys.executable]
    proc = subprocess.run(cmd, cwd=pack, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"uv sync in the copied pack failed: {proc.stderr}"
    return pack / ".venv"


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
