"""examples/ci, run as a CI runner would: the workflow's `run:` steps in order, in a fresh folder.

The folder plays the user's repository: examples/ci/my_model (whose `draw(seeds)` gives fixed-seed digits)
and the baseline recorded once with the README's own commands (`eval ... --save-features`), after which
the baseline's samples and feature cache are deleted: the job sees only baseline_result.json and
baseline_result.features.npz, as a fresh CI checkout would. The checkout steps are replaced by copying
this working tree (tracked and untracked, not ignored files) to ./genbench; `pip install ./genbench` runs
offline (`--no-deps --no-index --target`: the dependencies are this venv's). The job must write gate.json
saying "paired": true and exit 0 for the unchanged model; with SKIP_CLASSES = (3,) (one class dropped)
the gate step exits 1. The full run is `-m slow` (three evaluations with B = 200 and a wheel build);
the fast suite checks that the example is complete and that every command in it parses.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_readme import ROOT, readme_blocks, shell_commands

EXAMPLE = ROOT / "examples" / "ci"
WORKFLOW = EXAMPLE / "release-gate.yml"


def ci_run_steps(yaml: str) -> list[str]:
    """The `run:` commands of a workflow, folded (`run: >`) blocks joined into one line."""
    steps, lines = [], yaml.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)- run:\s*(.*)$", line)
        if not m:
            continue
        body = m.group(2).strip()
        if body in (">", "|"):
            indent, parts = len(m.group(1)), []
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent + 2:
                    break
                parts.append(nxt.strip())
            body = " ".join(p for p in parts if p)
        steps.append(body)
    return steps


def baseline_commands() -> list[str]:
    """The README's commands that record the baseline (the ones a user runs once)."""
    return [c for b in readme_blocks("bash") for c in shell_commands(b)
            if "baseline_result.json" in c or "--out baseline.npz" in c]


def test_ci_example_is_complete():
    steps = ci_run_steps(WORKFLOW.read_text())
    assert steps[0] == "pip install ./genbench" and steps[-1].startswith("genbench gate")
    assert "--baseline baseline_result.json" in steps[-1] and "--json gate.json" in steps[-1]
    script = next(s for s in steps if "generate_samples.py" in s).split()[1]
    assert (ROOT / script.removeprefix("genbench/")).is_file(), f"{script} is not shipped"
    assert (EXAMPLE / "my_model" / "sample.py").is_file()
    base = baseline_commands()
    assert len(base) == 2 and "--save-features" in base[1], base
    assert "examples/ci/release-gate.yml" in (ROOT / "README.md").read_text()
    from genbench.cli import build_parser

    for cmd in steps + base:
        if cmd.startswith("genbench "):
            assert getattr(build_parser().parse_args(shlex.split(cmd)[1:]), "func", None), cmd


def test_example_model_is_seeded_per_image(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import importlib

    sample = importlib.import_module("my_model.sample")
    a, b = sample.draw([5, 6, 7]), sample.draw([7])
    assert a.shape == (3, 3, 8, 8) and a.dtype.name == "uint8" and (a[2] == b[0]).all()


def _script_main():
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_samples", ROOT / "scripts" / "generate_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def test_generate_samples_script_draws_from_a_callable(tmp_path, monkeypatch, capsys):
    from genbench.sets.samples import open_samples

    shutil.copytree(EXAMPLE / "my_model", tmp_path / "my_model")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    main = _script_main()
    assert main(["--callable", "my_model.sample:draw", "--seeds", "3-7", "--out", "c.npz"]) == 0
    s = open_samples("c.npz")
    assert len(s) == 5 and s.manifest["seeds"] == [3, 4, 5, 6, 7]
    assert main(["--callable", "my_model.sample:nope", "--seeds", "0-3", "--out", "d.npz"]) == 2
    assert main(["--callable", "my_model.sample:draw", "--seeds", "0-9999999999", "--out", "d.npz"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("generate_samples.py: error: ") for e in err)
    assert not (tmp_path / "d.npz").exists()


def _copy_working_tree(dest: Path) -> None:
    """Tracked and untracked (not ignored) files of this checkout, as `actions/checkout` would give them."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _run(cmd: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    words = shlex.split(cmd)
    if words[:2] == ["pip", "install"]:  # offline: the dependencies are already in this venv
        words = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                 "--no-index", "--target", str(cwd / ".site"), *words[2:]]
    elif words[0] == "python":
        words[0] = sys.executable
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


def _job(repo: Path, env: dict, steps: list[str]) -> int:
    """The workflow's steps after the install; returns the gate step's exit code."""
    for f in ("candidate.npz", "gate.json"):
        (repo / f).unlink(missing_ok=True)
    for cmd in steps[1:]:
        out = _run(cmd, repo, env)
        if cmd.startswith("genbench gate"):
            assert out.returncode in (0, 1), f"{cmd}: exit {out.returncode}\n{out.stdout}\n{out.stderr[-3000:]}"
            return out.returncode
        assert out.returncode == 0, f"{cmd}: exit {out.returncode}\n{out.stdout}\n{out.stderr[-3000:]}"
    raise AssertionError("the workflow has no gate step")


@pytest.mark.slow  # a wheel build and three evaluations with B = 200: minutes on 2 shared cores
def test_ci_example_runs_step_by_step(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of genbench")
    repo = tmp_path / "user-repo"
    shutil.copytree(EXAMPLE / "my_model", repo / "my_model")
    _copy_working_tree(repo / "genbench")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHONPATH=f"{repo / '.site'}{os.pathsep}{repo}", GENBENCH_HOME=str(tmp_path / "home-record"),
               PATH=f"{repo / '.site' / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    steps = ci_run_steps(WORKFLOW.read_text())
    for cmd in steps[:1] + baseline_commands():  # install, then record the baseline once
        out = _run(cmd, repo, env)
        assert out.returncode == 0, f"{cmd}: exit {out.returncode}\n{out.stdout}\n{out.stderr[-3000:]}"
    (repo / "baseline.npz").unlink()  # not committed: the job has the result and its features file only
    env["GENBENCH_HOME"] = str(tmp_path / "home-ci")  # a fresh runner: no feature cache
    assert _job(repo, env, steps) == 0
    report = json.loads((repo / "gate.json").read_text())
    assert report["paired"] is True and report["status"] == "pass", report
    sample = repo / "my_model" / "sample.py"
    sample.write_text(sample.read_text().replace("SKIP_CLASSES: tuple[int, ...] = ()", "SKIP_CLASSES = (3,)"))
    assert _job(repo, env, steps) == 1
    report = json.loads((repo / "gate.json").read_text())
    assert report["paired"] is True and report["status"] == "fail", report
    assert any(r["metric"] == "classes_covered" and r["status"] == "fail" for r in report["rules"])
