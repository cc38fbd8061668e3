"""Synthesis: run a Pulumi Python program under an emulated engine and record every resource.

The facade the rest of preflight (cli, diff, report, benchmarks, tests) imports. The engine
emulation itself lives in `preflight.engine`, one room per idea: `values` (wire encoding),
`urns` (URNs and mock ids), `monitor` (the recording resource monitor), `run` (one program
run in this process), `result` (SynthResult) and `child` (the run in a child interpreter).
"""

from __future__ import annotations

from preflight.engine.child import STREAM_SWITCH_INTERVAL, stream_synthesis, synthesize_isolated
from preflight.engine.monitor import RecordingMonitor
from preflight.engine.result import SCHEMA, SynthResult, write_result
from preflight.engine.run import collector_paused, synthesize
from preflight.engine.urns import PROVIDER_PREFIX, STACK_TYPE, make_urn, mock_id, package_of
from preflight.engine.values import UNKNOWN_PLACEHOLDER, plain

__all__ = [
    "PROVIDER_PREFIX",
    "SCHEMA",
    "STACK_TYPE",
    "STREAM_SWITCH_INTERVAL",
    "UNKNOWN_PLACEHOLDER",
    "RecordingMonitor",
    "SynthResult",
    "collector_paused",
    "make_urn",
    "mock_id",
    "package_of",
    "plain",
    "stream_synthesis",
    "synthesize",
    "synthesize_isolated",
    "write_result",
]
