"""`python3 dev.py mutate` (benchmarks/mutation.py): every module of the pack is mapped to tests
that exist and select something, annotations are left out, and a run over a small module finds
the survivor a missing boundary case leaves, and puts the file back."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import mutation

ROOT = Path(__file__).resolve().parents[1]


def test_every_policy_module_is_mapped_to_tests_that_exist() -> None:
    # Every module of the pack but its entry point (`__main__.py` only lists the policies; it
    # runs only under the CLI over gRPC) and the packages' `__init__.py`.
    policies = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "policies").rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py") and ".venv" not in p.parts
    }
    assert policies <= set(mutation.MODULES), sorted(policies - set(mutation.MODULES))
    for module, selection in mutation.MODULES.items():
        assert (ROOT / module).is_file(), module
        files = [a for a in selection if a.endswith(".py")]
        assert files and all((ROOT / f).is_file() for f in files), (module, files)


def test_a_policy_modules_keyword_names_its_own_policy() -> None:
    """`-k residency-oci-region:` selects that policy's cases: a name not in the module would
    select nothing, and every mutant would be killed by pytest's exit 5 (no tests ran)."""
    policy_folders = ("policies/residency/", "policies/security/", "policies/lifecycle/")
    for module, selection in mutation.MODULES.items():
        if "-k" not in selection or not module.startswith(policy_folders):
            continue  # the shared modules' -k selects test files, not one policy's cases
        keywords = selection[selection.index("-k") + 1]
        policy = keywords.split(" or ")[0].removesuffix(":")
        assert f'name="{policy}"' in (ROOT / module).read_text(encoding="utf-8"), (module, policy)


def test_annotations_are_left_out() -> None:
    source = "def f(x: int | None, y: dict[str, int]) -> list[int] | None:\n    z: int | str = x or 1\n"
    spans = mutation._annotation_spans(source)
    assert mutation._in_annotation((1, 11), spans), "the | of `int | None`"
    assert mutation._in_annotation((1, 53), spans), "the | of the return annotation"
    assert not mutation._in_annotation((2, 20), spans), "`x or 1` is code"


def test_unknown_module_or_group_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert mutation.main(["--module", "policies/nope.py"]) == 2
    assert capsys.readouterr().err.strip() == (
        "mutate: --module policies/nope.py: not a module of benchmarks/mutation.py MODULES"
    )
    assert mutation.main(["--group", "everything"]) == 2
    assert mutation.main(["--sample", "0"]) == 2


@pytest.mark.slow
def test_a_run_finds_the_boundary_survivor_and_restores_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "limits.py"
    source = "def at_least(x, floor):\n    return x >= floor\n"
    module.write_text(source)
    (tmp_path / "test_limits.py").write_text(
        textwrap.dedent(
            """
            from limits import at_least

            def test_above_and_below():
                assert at_least(5, 1) is True
                assert at_least(0, 1) is False
            """
        )
    )
    (tmp_path / "conftest.py").write_text(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n")
    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    monkeypatch.setattr(mutation, "OUT", tmp_path / ".mutation")
    monkeypatch.setattr(mutation, "MODULES", {"limits.py": (str(tmp_path / "test_limits.py"),)})
    monkeypatch.setattr(sys, "executable", sys.executable)
    out = tmp_path / "report.json"
    assert mutation.main(["--json", str(out), "--fail-above", "10"]) == 1, "the survivor is above 10%"
    assert module.read_text() == source, "the original is back"
    [result] = json.loads(out.read_text())["modules"]
    assert result["killed"] >= 4 and result["survived"] >= 1
    changed = {
        re.sub(r"\s+", " ", line)
        for s in result["survivors"]
        for line in s["diff"].splitlines()
        if line.startswith("+") and not line.startswith("+++")
    }
    assert "+ return x > floor" in changed, "at_least(1, 1) is never asked"
    assert (tmp_path / "report.md").read_text().startswith("| module |")

    # The missing case added, only the survivors run again: the killed ones stay counted.
    with (tmp_path / "test_limits.py").open("a") as f:
        f.write("\n\ndef test_the_floor_itself():\n    assert at_least(1, 1) is True\n")
    again = tmp_path / "again.json"
    assert mutation.main(["--json", str(again), "--survivors-of", str(out)]) == 0
    [after] = json.loads(again.read_text())["modules"]
    assert after["sampled"] == result["sampled"] and after["killed"] > result["killed"]
    assert "+ return x > floor" not in {
        re.sub(r"\s+", " ", line) for s in after["survivors"] for line in s["diff"].splitlines()
    }
    assert module.read_text() == source


def test_the_summary_adds_up_the_reports_per_folder_and_overall(tmp_path: Path) -> None:
    """docs/mutation-testing.md's tables come from benchmarks/mutation_summary.py: a module's
    after is the last after report that has it (or its before, not re-run), and the folder and
    "all" lines are sums of the modules' own figures."""
    from benchmarks import mutation_summary

    def entry(module: str, killed: int, survived: int, not_run: int = 0) -> dict[str, object]:
        return {
            "module": module, "mutants": 30, "sampled": killed + survived + not_run,
            "killed": killed, "survived": survived, "not_run": not_run,
        }  # fmt: skip

    def report(name: str, *modules: dict[str, object]) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"modules": list(modules)}))
        return path

    before = report(
        "before.json",
        entry("policies/security/a.py", 6, 4),
        entry("policies/security/b.py", 9, 1),
        entry("preflight/c.py", 5, 5),
    )
    old_after = report("after-1.json", entry("policies/security/a.py", 7, 3))
    new_after = report(
        "after-2.json", entry("policies/security/a.py", 10, 0), entry("policies/d.py", 3, 1, 2)
    )
    lines = mutation_summary.summary(
        mutation_summary.load([before]), mutation_summary.load([old_after, new_after])
    ).splitlines()
    rows = {line.split(" | ")[0].strip("|*` "): line for line in lines[2:]}
    assert rows["policies/security/a.py"].endswith("| 6 / 4 | 40.0% | 10 / 0 | 0.0% |"), "the last after"
    assert rows["policies/security/b.py"].endswith("| 9 / 1 | 10.0% | 9 / 1 | 10.0% |"), "not re-run"
    assert rows["policies/d.py"].endswith("| 2 | - | - | 3 / 1 | 25.0% |"), "new: no before"
    assert rows["policies/security/"].endswith("| 0 | 15 / 5 | 25.0% | 19 / 1 | 5.0% |")
    assert rows["policies/ (all)"].endswith("| 2 | 15 / 5 | 25.0% | 22 / 2 | 8.3% |")
    assert rows["verdict path (all)"].endswith("| 0 | 5 / 5 | 50.0% | 5 / 5 | 50.0% |")
    assert list(rows)[-2:] == ["policies/ (all)", "verdict path (all)"]
