"""CLI subcommands: each one is a declaration in `parsers/` and an implementation here, `<name>.py`.

`parsers/<name>.py` declares the command's arguments, help and defaults in `register(subparsers)` and sets
`func=parsers.Run("<name>")`; it imports only the standard library and tiny genbench modules, so cli.py builds
every parser (and prints any --help) without loading torch, scipy or an implementation (checked by
tests/unit/test_cli_startup.py). `<name>.py` holds `run(args) -> int` (0 ok, 1 gate failed), imported only
when the command runs: it calls into the library and prints, and raises GenbenchError on bad input. Names
that live in registries are declared in the parser and tested equal to the registry, or checked when the
command runs. `common.py` holds the argument helpers both sides share; it imports the library only inside
its functions.
May import: the whole library (parsers/: see its docstring). Only `cli` and `commands` import
`genbench.commands`; a command turns its argparse namespace into plain values before calling the library.
"""
COMMANDS = ("eval", "export", "metrics", "weights", "train", "generate", "run", "board", "papers",
            "reproduce", "gate", "ref", "power")
