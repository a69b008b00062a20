"""The package's layering, checked over its source with `ast` so that it stays true (issue #17).

Each unit (a core module or a folder) may import only units below it in LAYERS, or itself. From this
follow the rules stated in ARCHITECTURE.md and in each folder's docstring: nothing but `cli` and
`commands` imports `genbench.commands`; no import cycle, imports inside functions included; the
library takes plain values, never an argparse namespace.
"""
from __future__ import annotations

import ast

import pytest

from tests.unit.importgraph import ROOT, cycles, import_graph, module_files

LAYERS: list[set[str]] = [  # lowest first
    {"errors", "version", "paths", "reproducible"},
    {"registry", "io", "numerics", "seeding", "distributed", "progress"},
    {"data"},             # built-in datasets
    {"metrics"},          # metric maths (functional/) and registered metrics
    {"sets"},             # sample sets and the image contract
    {"features"},         # extractors, feature cache
    {"protocols"},        # named protocols over extractors and metrics
    {"refs.stats"},       # statistics files
    {"eval"},             # evaluate(), Evaluator, results
    {"refs.build"},       # building statistics files the way an evaluation reads them
    {"compare"},          # paired bootstrap, gate
    {"board"},            # leaderboards, ranks, rendering, report
    {"bench"},            # suites, baselines, papers
    {"commands"},         # CLI subcommands
    {"cli", ""},          # the CLI, and the package's public face
    {"__main__"},         # `python -m genbench`
]
MAX_TOP_LEVEL_MODULES = 14  # + reproducible.py (issue #29: CPU pins before torch loads), progress.py (#26)


def unit(module: str) -> str:
    parts = module.split(".")[1:]
    if parts[:2] in (["refs", "stats"], ["refs", "build"]):
        return ".".join(parts[:2])
    return parts[0] if parts else ""


def layer(module: str) -> int:
    u = unit(module)
    for i, names in enumerate(LAYERS):
        if u in names:
            return i
    raise AssertionError(f"{module}: unit {u!r} has no layer in LAYERS; add it")


def test_every_import_points_down():
    bad = [f"{m} -> {t}" for m, targets in import_graph().items() for t in sorted(targets)
           if unit(m) != unit(t) and layer(t) >= layer(m)]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_only_the_cli_imports_commands():
    bad = [m for m, targets in import_graph().items() if any(t.startswith("genbench.commands") for t in targets)
           and unit(m) not in {"commands", "cli"}]
    assert not bad


def test_library_takes_no_argparse_namespace():
    bad = []
    for name, path in module_files().items():
        if unit(name) in {"commands", "cli"}:
            continue
        text = path.read_text()
        if "argparse" in text or "Namespace" in text:
            bad.append(name)
    assert not bad, f"argparse outside the CLI: {bad}"


def test_top_level_is_small():
    modules = [p.name for p in ROOT.glob("*.py")]
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, sorted(modules)


@pytest.mark.parametrize("package", sorted(p.parent.relative_to(ROOT.parent).as_posix()
                                           for p in ROOT.rglob("__init__.py")))
def test_every_folder_says_what_it_holds(package):
    doc = ast.get_docstring(ast.parse((ROOT.parent / package / "__init__.py").read_text()))
    assert doc and len(doc) > 40, f"{package}/__init__.py needs a docstring saying what it holds"
    if package != "genbench":  # the package's face states the public API instead
        assert "May import:" in doc, f"{package}/__init__.py should say what the folder may import"


def test_the_checker_sees_a_cycle_and_a_function_level_import():
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    graph = import_graph()
    assert "genbench.sets.diffusers" in graph["genbench.sets.samples"]  # imported inside a method
