"""`genbench --help` answers at once (issue #26): building the parsers imports no implementation.

Parsers are declarations (genbench/commands/parsers/); the names they hold that live in registries are
checked against those registries here.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from tests.unit.importgraph import ROOT

HEAVY = ("torch", "scipy", "numpy", "sklearn", "pandas", "reference_models", "genbench.eval.run", "genbench.compare.gate",
         "genbench.features", "genbench.metrics")

_RENDER_ALL = """
import argparse, json, sys
from genbench.cli import build_parser

def walk(p):
    p.format_help()
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                walk(sub)

walk(build_parser())
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT.parent, env={**os.environ, "PYTHONPATH": str(ROOT.parent)})
    return set(json.loads(out.stdout.splitlines()[-1]))


def _implementations() -> list[str]:
    from genbench.commands import COMMANDS

    return [f"genbench.commands.{name}" for name in COMMANDS]


def test_every_help_imports_nothing_heavy():
    loaded = _modules_after(_RENDER_ALL)
    assert {"genbench.cli", "genbench.commands.parsers.gate"} <= loaded
    assert not loaded & set(HEAVY + tuple(_implementations())), sorted(loaded & set(HEAVY))


def test_import_genbench_is_light():
    loaded = _modules_after("import genbench, json, sys; print(json.dumps(sorted(sys.modules)))")
    assert not loaded & set(HEAVY + ("genbench.cli", "genbench.commands")), sorted(loaded & set(HEAVY))


def _funcs(parser: argparse.ArgumentParser):
    yield parser.get_default("func")
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                yield from _funcs(sub)


def test_every_declared_command_has_its_implementation():
    from genbench.cli import build_parser
    from genbench.commands.parsers import Run

    runs = {f for f in _funcs(build_parser()) if isinstance(f, Run)}
    assert {f"genbench.commands.{r.module}" for r in runs} == set(_implementations())
    for r in runs:
        assert callable(getattr(__import__(f"genbench.commands.{r.module}", fromlist=["x"]), r.attr)), r


def test_train_declares_the_registered_families():
    from genbench.commands.parsers import train
    from reference_models.family import load_families

    families = dict(load_families().items())
    assert train.FAMILIES == tuple(families)
    extra = {n: tuple(sorted(set(f.presets) - {"tiny", "quick", "full"})) for n, f in families.items()}
    assert train.EXTRA_PRESETS == {n: e for n, e in extra.items() if e}
    assert train.PACKING == tuple(n for n, f in families.items() if f.option("pack"))


def test_train_declares_the_built_in_datasets():
    from genbench.commands.parsers import train
    from genbench.data import DATASETS

    assert train.DATASETS == tuple(DATASETS.names())


def test_gate_declares_the_library_default():
    from genbench.commands.parsers import gate as declared
    from genbench.compare import gate

    assert declared.INCONCLUSIVE_FAILS is gate.INCONCLUSIVE_FAILS


@pytest.mark.parametrize("argv", [["--help"], ["gate", "--help"], ["weights", "list", "--help"]])
def test_help_exits_0(argv, capsys):
    from genbench.cli import main

    assert main(argv) == 0
    assert "usage: genbench" in capsys.readouterr().out


_PROGRAM = """
import atexit, sys, torch
from genbench.cli import program
mark = sys.argv[1]
atexit.register(lambda: open(mark, "w").write("exit handlers ran"))
sys.argv = ["genbench", *sys.argv[2:]]
program()
"""


@pytest.mark.parametrize("argv,code,stream,text", [
    (["gate", "--help"], 0, "stdout", "--baseline"),
    (["eval", "--samples", "no-such-file.npz", "--protocol", "digits-default"], 2, "stderr", "no-such-file.npz"),
])
def test_program_skips_teardown_but_keeps_exit_handlers_streams_and_code(tmp_path, argv, code, stream, text):
    """With torch loaded, the program leaves by os._exit after the exit handlers: nothing it printed or
    registered is lost, and the exit code is main's."""
    mark = tmp_path / "atexit.txt"
    out = subprocess.run([sys.executable, "-c", _PROGRAM, str(mark), *argv], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT.parent)})
    assert out.returncode == code, out.stderr
    assert text in getattr(out, stream)
    assert mark.read_text() == "exit handlers ran"
