"""The README's CI example, run as a CI runner would: fresh checkout, `pip install ./genbench`, the
example's script and gate, in a temp dir with a tiny N.

The workspace plays the user's repository: a `my_model/sample.py` whose `draw(seeds)` returns real digits
(image k depends only on seed k), and the README's once-only baseline commands run first. genbench is
cloned from this repository's HEAD (`git clone`, as `actions/checkout` would) and installed offline with
`pip install --no-deps --no-build-isolation --no-index --target` (the dependencies are this venv's).
The only change to the README's commands is N: `0-999` becomes `0-99`. The full run is `-m slow`; the
fast suite checks that the example is complete (install step, shipped script, baseline commands) and the
README test parses every genbench command in it.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_readme import ROOT, readme_blocks, shell_commands

TINY = ("0-999", "0-99")
MODEL = '''
import numpy as np
from genbench.data import load_dataset


def draw(seeds):
    """Real digits: image k is digits[(7 * k) % N], so it depends only on seed k."""
    data = load_dataset("digits").data  # [N, 3, 8, 8] uint8
    return data[[(7 * s) % len(data) for s in seeds]]
'''


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


def _baseline_commands() -> list[str]:
    return [c for b in readme_blocks("bash") for c in shell_commands(b) if "baseline_result.json" in c
            or "--out baseline.npz" in c]


def test_readme_ci_example_is_complete():
    steps = ci_run_steps(readme_blocks("yaml")[0])
    assert steps[0] == "pip install ./genbench" and any(s.startswith("genbench gate") for s in steps)
    script = next(s for s in steps if "generate_samples.py" in s).split()[1]
    assert (ROOT / script.removeprefix("genbench/")).is_file(), f"{script} is not shipped"
    assert len(_baseline_commands()) == 2
    from genbench.cli import build_parser

    for cmd in steps + _baseline_commands():
        if cmd.startswith("genbench "):
            assert getattr(build_parser().parse_args(shlex.split(cmd)[1:]), "func", None), cmd


def _script_main():
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_samples", ROOT / "scripts" / "generate_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def test_generate_samples_script_draws_from_a_callable(tmp_path, monkeypatch, capsys):
    from genbench.sets.samples import open_samples

    (tmp_path / "my_model").mkdir()
    (tmp_path / "my_model" / "__init__.py").write_text("")
    (tmp_path / "my_model" / "sample.py").write_text(MODEL)
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


def _run(cmd: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    cmd = cmd.replace(*TINY)
    words = shlex.split(cmd)
    if words[:2] == ["pip", "install"]:  # offline: the dependencies are already in this venv
        words = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                 "--no-index", "--target", str(cwd / ".site"), *words[2:]]
    elif words[0] == "python":
        words[0] = sys.executable
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow  # two evaluations (baseline, gate) with B = 200 bootstraps: minutes of CPU on 2 shared cores
def test_readme_ci_example_runs_on_a_fresh_checkout(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of genbench")
    repo = tmp_path / "user-repo"
    (repo / "my_model").mkdir(parents=True)
    (repo / "my_model" / "__init__.py").write_text("")
    (repo / "my_model" / "sample.py").write_text(MODEL)
    clone = subprocess.run(["git", "clone", "-q", "--depth", "1", ROOT.as_uri(), str(repo / "genbench")],
                           capture_output=True, text=True)
    assert clone.returncode == 0, clone.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHONPATH=str(repo / ".site"), GENBENCH_HOME=str(tmp_path / "home"),
               PATH=f"{repo / '.site' / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    steps = ci_run_steps(readme_blocks("yaml")[0])
    order = steps[:1] + _baseline_commands() + steps[1:]  # install, record the baseline once, then the job
    for cmd in order:
        out = _run(cmd, repo, env)
        assert out.returncode == 0, f"{cmd}: exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    assert (repo / "gate.json").is_file() and (repo / "candidate.npz").is_file()
    imported = subprocess.run([sys.executable, "-c", "import genbench; print(genbench.__file__)"], cwd=tmp_path,
                              env=env, capture_output=True, text=True)
    assert imported.stdout.startswith(str(repo / ".site")), imported.stdout  # the installed copy ran
