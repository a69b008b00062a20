"""`genbench` command line: thin subcommands over the library. Exit codes: 0 ok, 1 gate failed, 2 bad input."""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from genbench import reproducible
from genbench.version import __version__
from genbench.commands import COMMANDS
from genbench.errors import GenbenchError


class Parser(argparse.ArgumentParser):
    """argparse with the one-line error contract: `genbench eval: error: ... (see genbench eval --help)`.

    argparse's default prints the usage block (up to several lines) before the message; a bad argument is
    one stderr line like every other bad input. Subparsers inherit this class (argparse's parser_class).
    """

    def error(self, message: str):  # type: ignore[override]
        text = " ".join(str(message).split())  # argparse messages may wrap; keep one line
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """Unknown arguments are reported by the subcommand they were given to (`genbench eval: ...`)."""
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            self._innermost(ns).error(f"unrecognized arguments: {' '.join(extras)}")
        return ns

    def _innermost(self, ns: argparse.Namespace) -> argparse.ArgumentParser:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action.choices.get(getattr(ns, action.dest, None) or "")
                if isinstance(sub, Parser):
                    return sub._innermost(ns)
        return self


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="genbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"genbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:  # declarations only: a command's implementation is imported when it runs
        importlib.import_module(f"genbench.commands.parsers.{name}").register(sub)
    return parser


def _one_line(text: object) -> str:
    """One line, with every control or format character that survives (a terminal escape quoted from a file)
    shown as U+FFFD: a message never moves the cursor, retitles the window or clears the screen."""
    from genbench.eval.names import safe_text

    return safe_text(" ".join(str(text).split()))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one stderr line (`genbench: warning: ...`), without the source line Python adds."""
    print(f"genbench: warning: {_one_line(message)}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    reproducible.pin_for(argv)  # run/train: CPU kernel pins before torch loads (may re-execute this process)
    try:
        parser = build_parser()
    except GenbenchError as e:  # a registration refused at import (a protocol, metric or family entry)
        print(f"genbench: error: {_one_line(e)}", file=sys.stderr)
        return e.exit_code
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: 2 for usage errors, 0 for --help
        return int(e.code or 0)
    if not getattr(args, "func", None):
        print("genbench: error: choose a command (see genbench --help)", file=sys.stderr)
        return 2
    from genbench.commands.common import command_facts
    from genbench.distributed import run_command  # torchrun: join the group, fail fast (no-op otherwise)

    return run_command(lambda: _dispatch(args), getattr(args, "device", "auto"), command_facts(args))


def program() -> None:
    """The `genbench` program (its console script and `python -m genbench`): main(), then, once torch is
    loaded, exit without the interpreter's teardown. Clearing torch's modules at exit cost 0.6 s of every
    command (`python -c "import torch"`: 2.1 s wall, 1.4 s so exited). Exit handlers still run (temporary
    folders, logging) and the standard streams are flushed; a live non-daemon thread keeps the normal exit.
    In-process callers use main(), which returns its code."""
    code = main()
    if "torch" not in sys.modules or _working_threads():
        sys.exit(code)
    import atexit
    import os

    atexit._run_exitfuncs()  # what the normal exit runs first
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(code)


def _working_threads() -> bool:
    import threading

    return any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread())


def _dispatch(args: argparse.Namespace) -> int:
    from genbench.distributed import is_main, rank_label

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default" if is_main() else "ignore")  # ranks agree on inputs: say it once
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except GenbenchError as e:
        print(f"genbench {args.command}: error: {rank_label()}{_one_line(e)}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # the file system refused (permission, full disk, a folder where a file goes)
        where = f"{e.filename}: " if e.filename else ""
        print(f"genbench {args.command}: error: {where}{_one_line(e.strerror or e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("genbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
