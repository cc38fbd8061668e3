"""Reports a reviewer can read (issue 18): counts that do not overlap, whole messages at any
width, COLUMNS when piped, one line for repeated notes, NO_COLOR, and --help that says what
each command does and how it exits."""

from __future__ import annotations

import dataclasses
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from preflight import cli
from preflight.inventory import build_inventory
from preflight.model import Finding
from preflight.report import Report, collapse_notes, counts, render, verdict_line
from preflight.synth import SynthResult, synthesize

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "basic"
GOOD = FIXTURES / "packs" / "good"
SG = (
    "urn:pulumi:dev::fixture-basic::fixture:storage:RegionalStore$oci:ObjectStorage/bucket:Bucket"
    "::store-ap-singapore-1-bucket"
)
WAIVED = (
    "[residency-aws-location] legacy site 'legacy-sg' is in SG, outside US: it needs an unexpired waiver "
    "naming the site: waived by waiver 'legacy-sg' (owner data-residency@example.com, expires 2027-06-30, "
    "209 days left; reason: Singapore backups are frozen, read-only and reachable only for restores into "
    "us-ashburn-1 until they expire; deletion is scheduled for the sunset date.)"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def synth() -> SynthResult:
    return synthesize(BASIC, "dev")


def _finding(synth: SynthResult, **kw: object) -> Finding:
    r = synth.by_urn()[SG]
    base: dict[str, object] = {
        "source": "us-data-residency",
        "policy": "residency-waived",
        "enforcement": "advisory",
        "severity": "high",
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "region": r.region,
        "message": WAIVED,
        "location": r.location,
        "waiver": "legacy-sg",
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def _report(synth: SynthResult, findings: list[Finding], warnings: list[str] | None = None) -> Report:
    if warnings is not None:
        synth = dataclasses.replace(synth, warnings=warnings)
    return Report(
        command="gate",
        synth=synth,
        findings=findings,
        inventory=build_inventory(synth.resources, synth.outputs, findings),
        pack={"name": "us-data-residency", "version": "0.1.0", "sha256": "sha256:00"},
        checkov=f"{len(findings)} findings",
    )


def _prod_like(synth: SynthResult) -> list[Finding]:
    """What prod's gate finds: 36 suppressed checkov failures and 14 waived residency findings."""
    suppressed = [
        _finding(
            synth,
            source="checkov",
            policy=f"CKV_OCI_{i}",
            enforcement="mandatory",
            message=f"check {i} [CKV_OCI_{i} on oci_objectstorage_bucket.b]",
            waiver=None,
            suppressed="replicas are read-only by design",
        )
        for i in range(36)
    ]
    return suppressed + [_finding(synth) for _ in range(14)]


def test_the_summary_counts_each_finding_once(synth: SynthResult) -> None:
    report = _report(synth, _prod_like(synth))
    assert verdict_line(report) == "passed · 0 blocking · 36 suppressed (checkov) · 14 waived"
    text = render(report, "text", width=200)
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith("passed · 0 blocking · 36 suppressed (checkov) · 14 waived"), last
    assert "mandatory" not in last and "advisory" not in last, (
        "suppressed is not mandatory, waived not advisory"
    )
    md = render(report, "markdown")
    assert "· 0 blocking · 36 suppressed (checkov) · 14 waived" in md.splitlines()[2]
    assert "mandatory" not in md.splitlines()[2]
    blocked = _report(
        synth,
        [
            *_prod_like(synth),
            _finding(synth, enforcement="mandatory", waiver=None, policy="residency-oci-region"),
        ],
    )
    assert verdict_line(blocked) == "BLOCKED · 1 blocking · 36 suppressed (checkov) · 14 waived"
    advisory = _finding(synth, waiver=None, policy="bucket-tagged", message="bucket has no freeform tags")
    assert counts(_report(synth, [advisory])) == "0 blocking · 1 advisory"


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_any_width_cuts_no_fact_and_leaves_no_stray_whitespace(synth: SynthResult, width: int) -> None:
    report = _report(synth, [_finding(synth), _finding(synth, waiver=None, message="short")])
    text = render(report, "text", width=width)
    lines = text.splitlines()
    assert all(line == line.rstrip() for line in lines), "no trailing whitespace"
    assert max(len(line) for line in lines) <= width
    assert "…" not in text, "nothing is cut"
    table = [ln for ln in lines if ln.startswith("│") and ln.count("│") == 8]
    if table:  # the Message column, read top to bottom
        message = "".join(ln.split("│")[7] for ln in table)
    else:  # a block per finding, the message indented under it
        assert width < 200, "a wide terminal gets the table"
        message = "".join(ln for ln in lines if ln.startswith("  "))
    assert "".join(WAIVED.split()) + "short" in "".join(message.split())


def test_repeated_offline_notes_are_one_line() -> None:
    tokens = ["oci:Core/getServices:getServices", "oci:ObjectStorage/getNamespace:getNamespace"]
    tokens += ["oci:CloudGuard/getDetectorRecipes:getDetectorRecipes"]
    notes = [f"invoke {t} answered with nothing offline (data sources are not mocked)" for t in tokens]
    notes += [notes[0], "program left 1 process running: ended", "invoke a:b:c answered  with\tnothing"]
    assert collapse_notes(notes) == [
        "3 × invoke … answered with nothing offline (data sources are not mocked): " + ", ".join(tokens),
        "program left 1 process running: ended",
        "invoke a:b:c answered with nothing",
    ]
    assert collapse_notes(notes[:1]) == notes[:1], "a single note is as it was"


def test_text_report_collapses_notes(synth: SynthResult) -> None:
    notes = [f"invoke oci:X/get{i}:get{i} answered with nothing offline" for i in range(6)]
    text = render(_report(synth, [], warnings=notes), "text", width=200)
    assert [ln for ln in text.splitlines() if ln.startswith("note:")] == [
        "note: 6 × invoke … answered with nothing offline: "
        + ", ".join(f"oci:X/get{i}:get{i}" for i in range(6))
    ]


def test_width_follows_columns_even_when_piped() -> None:
    assert cli._report_width(to_terminal=False, environ={"COLUMNS": "90"}) == 90
    assert cli._report_width(to_terminal=True, environ={"COLUMNS": "132"}) == 132
    assert cli._report_width(to_terminal=False, environ={}) == 200, "a file or a CI log"
    assert cli._report_width(to_terminal=False, environ={"COLUMNS": "20"}) == cli.MIN_WIDTH
    assert cli._report_width(to_terminal=False, environ={"COLUMNS": "wide"}) == 200


def _preflight_plan(env: dict[str, str], *, tty: bool) -> str:
    """`preflight plan` on the basic fixture; its stdout (through a pty when `tty`)."""
    cmd = [sys.executable, "-m", "preflight", "plan", "--project-dir", str(BASIC), "--stack", "dev"]
    cmd += ["--policy-pack", str(GOOD), "--no-checkov", "--no-progress"]
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    full_env.update(env)
    if not tty:
        proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, env=full_env, stdout=follower, stderr=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=300) == 0
    finally:
        os.close(leader)
    return b"".join(chunks).decode()


@pytest.mark.slow
def test_piped_output_honours_columns() -> None:
    out = _preflight_plan({"COLUMNS": "90"}, tty=False)
    assert max(len(line) for line in out.splitlines()) <= 90
    assert "bucket-us-only" in out and not ANSI.search(out)


@pytest.mark.slow
def test_no_color_is_honoured_on_a_terminal() -> None:
    coloured = _preflight_plan({"COLUMNS": "120"}, tty=True)
    assert ANSI.search(coloured), "a terminal gets colour"
    assert ANSI.search(_preflight_plan({"COLUMNS": "120", "NO_COLOR": ""}, tty=True)), (
        "empty NO_COLOR: colour"
    )
    plain = _preflight_plan({"COLUMNS": "120", "NO_COLOR": "1"}, tty=True)
    assert "bucket-us-only" in plain and not ANSI.search(plain)


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def test_diff_help_lists_only_the_formats_diff_writes(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "diff")
    assert "--format {markdown,json}" in text and "sarif" not in text and "{text" not in text
    assert "(default: markdown)" in text
    assert "--format {text,json,markdown,sarif}" in _help(capsys, "gate")


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ("plan", ("0", "2", "3")),
        ("gate", ("0", "1", "2", "3")),
        ("diff", ("0", "1", "2", "3")),
        ("verify", ("0", "1", "2")),
    ],
)
def test_every_subcommand_says_what_it_does_and_how_it_exits(
    capsys: pytest.CaptureFixture[str], command: str, codes: tuple[str, ...]
) -> None:
    text = _help(capsys, command)
    _usage, _, rest = text.partition("\n\n")
    description = rest.split("\n\n", 1)[0]
    assert len(description.split()) >= 8, f"{command} --help says what it does: {description!r}"
    assert "exit codes:" in text
    listed = re.findall(r"^  ([0-9])  \S", text.split("exit codes:")[1], re.MULTILINE)
    assert tuple(listed) == codes
    top = _help(capsys)
    assert command in top and "exit codes:" in top


def test_a_log_gets_a_line_per_stage_and_a_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    out = io.StringIO()
    progress = cli._Progress(enabled=False, lines=True, out=out)
    progress.line("synthesized 377 resources in 7.7s")
    progress.heartbeat()  # too soon: nothing
    assert re.fullmatch(r"preflight: synthesized 377 resources in 7\.7s · \d+\.\ds\n", out.getvalue())
    monkeypatch.setattr(cli, "HEARTBEAT", 0.0)
    progress.registered = 50
    progress.heartbeat()
    assert (
        out.getvalue()
        .splitlines()[1]
        .startswith("preflight: synthesizing: 50 resources registered, 0 analyzed")
    )
    quiet = io.StringIO()
    off = cli._Progress(enabled=False, lines=False, out=quiet)
    off.line("x")
    off.heartbeat()
    assert quiet.getvalue() == ""
    assert not cli._Progress(enabled=True, lines=True).lines, "a terminal gets the live line instead"


@pytest.mark.slow
def test_a_gate_without_a_terminal_logs_its_stages() -> None:
    cmd = [sys.executable, "-m", "preflight", "gate", "--project-dir", str(BASIC), "--stack", "dev"]
    cmd += ["--policy-pack", str(GOOD), "--no-checkov", "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    stages = [ln for ln in proc.stderr.splitlines() if re.fullmatch(r"preflight: .+ · \d+\.\ds", ln)]
    assert len(stages) == 2, proc.stderr
    assert re.fullmatch(r"preflight: synthesized 11 resources in \d+\.\ds · \d+\.\ds", stages[0])
    assert re.fullmatch(r"preflight: policy pack: \d+ findings · \d+\.\ds", stages[1])
    quiet = subprocess.run([*cmd, "--no-progress"], capture_output=True, text=True, timeout=300, check=False)
    assert not [ln for ln in quiet.stderr.splitlines() if re.fullmatch(r"preflight: .+ · \d+\.\ds", ln)]
