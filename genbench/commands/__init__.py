"""CLI subcommands: one module each, exposing `register(subparsers)`; cli.py wires them.

Each `register` adds a parser and calls `parser.set_defaults(func=run)` where `run(args) -> int`
(0 ok, 1 gate failed). Commands call into the library and print; they raise GenbenchError on bad input.
May import: the whole library. Only `cli` and `commands` import `genbench.commands`; a command turns its
argparse namespace into plain values before calling the library.
"""
COMMANDS = ("eval", "export", "metrics", "weights", "train", "generate", "run", "board", "papers",
            "reproduce", "gate", "ref", "power")
