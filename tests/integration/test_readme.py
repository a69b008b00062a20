"""The README as tests: every ```bash command and every ```python snippet it shows.

Blocks are discovered, not listed: a new README section is tested the moment it exists. Each shell line
(with `\\` continuations joined, comments dropped) is
- parsed by genbench's own argument parser (fast: flags or subcommands that drifted fail here), then
- run through the `genbench` CLI in one prepared workspace (a temp dir holding a copy of `leaderboards/`
  and, for every `.npz` a command reads that does not exist, a small fixture of real digits images:
  e.g. `runs/digits-quick-pinned/ddpm/samples-1000.npz` is that fixture under the same path),
unless SKIP names a prefix of it with the reason (weights that are absent here, the network, training
that takes minutes). Commands whose prefix is in SLOW run under `-m slow` only. EXIT_CODES lists the
codes a documented command may end with (the gate's 1 is a documented outcome). Extend these tables when
a README section adds a command that cannot run here.
"""
from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

SKIP = {
    "make ": "builds its own .venv (`make test` is this suite)",
    "genbench weights import inception-v3-tf /path/to/": "needs the real Inception weights file",
    "genbench weights download": "the only command that uses the network",
    "genbench eval --samples my.npz --ref cifar_train/": "needs CIFAR-10 and the Inception weights",
    "genbench train ": "trains for minutes; train/generate are tested in tests/unit/test_refmodels_cli.py",
    "genbench generate runs/my-ddpm": "needs the model that the skipped `genbench train` writes",
    "genbench run --suite": "trains several models (minutes); see tests/integration/test_suite_run.py",
    "genbench reproduce pacgan-ring": "trains GANs for minutes to hours",
    "genbench reproduce ddpm-cifar10": "needs CIFAR-10 and the Inception weights",
    "python genbench/scripts/generate_samples.py": "the CI example; run by tests/integration/test_ci_example.py",
    "genbench weights import dinov2-vit-l-14 /path/to/": "needs Meta's DINOv2 checkpoint file",
    "genbench generate runs/my-cgan": "needs the model that the skipped `genbench train` writes",
    "genbench ref import fid_stats_digits.npz": "reads the file the README's Python snippet writes (slow); "
                                               "each peer format is imported in tests/unit/test_refstats.py",
    "torchrun ": "multi-process runs are tested in tests/integration/test_torchrun.py (tiny inputs)",
    "genbench generate --diffusers ddpm-cifar10-32/": "needs the public DDPM CIFAR-10 pipeline "
                                                     "(tested with a tiny pipeline in tests/unit/test_diffusers_source.py)",
}
SLOW: tuple[str, ...] = ()  # prefixes run under `-m slow` only (all README evaluations fit the fast suite)
EXIT_CODES = {"genbench gate ": (0, 1)}  # 1 = regression, a documented outcome
OUTPUT_FLAGS = {"--out", "--json", "--add-to"}
FIXTURE_N = 100
FIXTURE_N_FOR = {"genbench gate ": 1000}  # the gate refuses a candidate below the protocol's N (1,000)
PY_SKIP = {'from_diffusers("ddpm-cifar10-32/"': "needs the public DDPM CIFAR-10 pipeline folder "
                                                "(tested with a tiny pipeline in tests/unit/test_diffusers_source.py)"}


def readme_blocks(lang: str, text: str | None = None) -> list[str]:
    """The bodies of every fenced block of `lang` in README.md, in order."""
    text = README.read_text(encoding="utf-8") if text is None else text
    return [m.group(1) for m in re.finditer(rf"^```{lang}[ \t]*\n(.*?)^```", text, re.M | re.S)]


def shell_commands(block: str) -> list[str]:
    """Logical command lines of a shell block: continuations joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append(shlex.join(words))
    return out


def readme_commands() -> list[str]:
    return [c for block in readme_blocks("bash") for c in shell_commands(block)]


def _first(table, cmd: str):
    return next((table[p] if isinstance(table, dict) else p for p in table if cmd.startswith(p)), None)


def _params(kind: str) -> list:
    params = []
    for cmd in readme_commands():
        if kind == "parse" and not cmd.startswith("genbench"):
            continue
        marks = []
        if kind == "run" and _first(SKIP, cmd):
            marks.append(pytest.mark.skip(reason=_first(SKIP, cmd)))
        elif kind == "run" and _first(SLOW, cmd):
            marks.append(pytest.mark.slow)
        params.append(pytest.param(cmd, marks=marks, id=cmd[:80]))
    return params


def test_readme_has_blocks():
    assert len(readme_commands()) >= 10 and readme_blocks("python")
    unknown = [c for c in readme_commands() if not c.startswith("genbench") and not _first(SKIP, c)]
    assert not unknown, f"only genbench commands can run here; add these to SKIP: {unknown}"


@pytest.mark.parametrize("cmd", _params("parse"))
def test_readme_command_parses(cmd):
    from genbench.cli import build_parser

    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert getattr(args, "func", None), f"{cmd}: no subcommand runs"


# ---- the workspace ----------------------------------------------------------------------------------
def _fixture_npz(path: Path, n: int = FIXTURE_N) -> None:
    from genbench.data import load_dataset

    images = load_dataset("digits").data[-n:]  # [n, 3, 8, 8] uint8, real digits
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, arr_0=images.transpose(0, 2, 3, 1))


def prepare_inputs(words: list[str], cwd: Path) -> None:
    """Create a small fixture for every .npz input that the command reads and that does not exist yet."""
    n = _first(FIXTURE_N_FOR, " ".join(words)) or FIXTURE_N
    for prev, word in zip([""] + words, words):
        if word.endswith(".npz") and prev not in OUTPUT_FLAGS and not (cwd / word).exists():
            _fixture_npz(cwd / word, n)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "leaderboards", ws / "leaderboards")
    return ws


@pytest.fixture
def in_workspace(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("GENBENCH_HOME", str(workspace / ".genbench-home"))
    return workspace


@pytest.mark.parametrize("cmd", _params("run"))
def test_readme_command_runs(cmd, in_workspace, capsys):
    from genbench.cli import main

    words = shlex.split(cmd)
    assert words[0] == "genbench", f"{cmd}: only genbench commands can run here; add it to SKIP"
    prepare_inputs(words, in_workspace)
    code = main(words[1:])
    err = capsys.readouterr().err
    assert code in (_first(EXIT_CODES, cmd) or (0,)), f"{cmd}: exit {code}\n{err}"
    assert "Traceback" not in err


# ---- Python snippets -------------------------------------------------------------------------------
def _api_names(code: str) -> set[str]:
    """Attributes of `genbench` that a snippet uses (genbench.X)."""
    return {n.attr for n in ast.walk(ast.parse(code))
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "genbench"}


@pytest.mark.parametrize("i", range(len(readme_blocks("python"))))
def test_readme_python_uses_the_public_api(i):
    import genbench

    code = readme_blocks("python")[i]
    for name in _api_names(code):
        assert callable(getattr(genbench, name)), f"genbench.{name} in README is not callable"


@pytest.mark.parametrize("i", range(len(readme_blocks("python"))))
def test_readme_python_snippet_runs(i, in_workspace):
    code = readme_blocks("python")[i]
    reason = next((why for key, why in PY_SKIP.items() if key in code), None)
    if reason:
        pytest.skip(reason)
    for word in re.findall(r"[\"']([^\"']+\.npz)[\"']", code):
        prepare_inputs([word], in_workspace)
    exec(compile(code, f"README.md python block {i}", "exec"), {"__name__": "__readme__"})


@pytest.mark.filterwarnings("ignore:FD:UserWarning")
def test_api_evaluate_works_twice():
    """`genbench.evaluate` is the function, called twice in one process, also after the evaluation
    modules are imported (no submodule of that name exists to shadow it)."""
    import genbench

    images = np.random.default_rng(0).integers(0, 256, (24, 3, 8, 8), dtype=np.uint8)
    kw = dict(extractor="pixels", metrics=["fd"], bootstrap=0, cache_dir=False)
    first = genbench.evaluate(images, "digits-test", **kw)
    import genbench.eval.run  # noqa: F401

    second = genbench.evaluate(images, "digits-test", **kw)
    assert callable(genbench.evaluate) and genbench.Leaderboard.__name__ == "Leaderboard"
    assert first.metrics["fd"].value == second.metrics["fd"].value


def test_genbench_entry_point_runs():
    exe = Path(sys.executable).with_name("genbench")
    if not exe.exists():
        pytest.skip("no genbench console script beside this Python (not installed)")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("genbench ")


def _table_after(text: str, marker: str) -> list[list[str]]:
    """Cells of the first markdown table after `marker` (header first, the --- row dropped)."""
    lines = text[text.index(marker):].splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| "))
    rows = []
    for ln in lines[start:]:
        if not ln.startswith("|"):
            break
        if "---" not in ln:
            rows.append([c.strip() for c in ln.strip().strip("|").split("|")])
    return rows


def test_readme_excerpt_is_the_committed_board():
    """Every cell of the README's excerpt equals the committed digits board's cell (same model, same column)."""
    excerpt = _table_after(README.read_text(), "An excerpt of [leaderboards/digits.md]")
    board = _table_after((ROOT / "leaderboards" / "digits.md").read_text(), "## digits-default")
    head, rows = board[0], {r[1]: r for r in board[1:]}
    assert [r[1] for r in excerpt[1:]] == [r[1] for r in board[1:]]  # every model, in the board's order
    for row in excerpt[1:]:
        for col, cell in zip(excerpt[0], row):
            assert rows[row[1]][head.index(col)] == cell, (row[1], col)
