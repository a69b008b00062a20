"""Issue #27 class 6: torchrun ranks compare the facts that decide the numbers, not their command lines.

The CLI states the command and every option that can change a number (genbench.commands.common.command_facts);
inputs named by path are left to the library, which compares them by content. A disagreement names the
fact and every rank's value in full."""
from __future__ import annotations

from genbench.cli import build_parser
from genbench.commands.common import command_facts
from genbench.distributed import disagreements, flatten, seeds_fact

EVAL = ["eval", "--samples", "/mnt/a/samples.npz", "--ref", "/mnt/a/ref/", "--metrics", "fd", "--bootstrap", "10"]


def _facts(argv: list[str]) -> dict[str, str]:
    return flatten(command_facts(build_parser().parse_args(argv)))


def test_paths_caches_and_outputs_are_not_compared_as_typed() -> None:
    """Two nodes: another mount point, another --cache-dir, another --json name: the same facts."""
    a = _facts([*EVAL, "--cache-dir", "/scratch/node0", "--json", "r.json", "--quiet"])
    b = _facts(["eval", "--samples", "/data/b/samples.npz", "--ref", "/data/b/ref/", "--metrics", "fd",
                "--bootstrap", "10", "--cache-dir", "/local/node1", "--json", "/out/r.json"])
    assert a == b and a["command"] == '"eval"'


def test_an_option_that_changes_numbers_is_named_with_both_values_in_full() -> None:
    a, b = _facts(EVAL), _facts([*EVAL[:-1], "20", "--protocol", "digits-default"])
    lines = disagreements([a, b])
    assert "options.bootstrap: rank 0 10, rank 1 20" in lines
    assert 'options.protocol: rank 0 null, rank 1 digits-default' in lines


def test_long_values_are_not_cut() -> None:
    """Issue #27: the old message cut both command lines after 24 characters, before the part that differed."""
    long0, long1 = "x" * 200 + "0", "x" * 200 + "1"
    (line,) = disagreements([{"k": long0}, {"k": long1}])
    assert long0 in line and long1 in line


def test_generate_compares_its_seeds_by_content() -> None:
    assert seeds_fact(range(5)) == seeds_fact([0, 1, 2, 3, 4])
    a, b = seeds_fact([0, 1, 2]), seeds_fact([0, 2, 1])
    assert a["n"] == b["n"] and a["sha256"] != b["sha256"]
    assert _facts(["generate", "runs/a", "--seeds", "0-9", "--out", "a.npz"]) == \
        _facts(["generate", "/mnt/runs/a", "--seeds", "0-9", "--out", "/tmp/b.npz"])
