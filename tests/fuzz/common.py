"""Shared settings and the CLI property of the fuzzing suite (hypothesis, derandomized for CI)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

from hypothesis import HealthCheck, settings

from genbench.cli import main

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in root.rglob("*")}


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Exit code and stderr of one in-process `genbench` call."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def assert_clean_failure(code: int, err: str, argv: list[str]) -> None:
    """The bad-input contract: exit 2, one stderr line `genbench <cmd>: error: ...`, no traceback."""
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"genbench {argv[0]}") and ": error: " in err, err
