"""`genbench weights list | verify [NAME] | import NAME PATH | download NAME`: the offline weights store."""
from __future__ import annotations

import argparse

from genbench.features import weights


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "verify": _verify, "import": _import, "download": _download}[args.weights_command](args)


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def _list(args: argparse.Namespace) -> int:
    rows = [("name", "file", "present", "verified")]
    for entry in weights.list_entries():
        st = weights.status(entry.name)
        rows.append((st.name, str(st.path), _yes_no(st.present), _yes_no(st.verified)))
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0


def _verify(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else [e.name for e in weights.list_entries() if weights.status(e.name).present]
    if not names:
        print(f"no weights in {weights.store_dir()}")
    bad = 0
    for name in names:
        info = weights.verify(name)
        bad += not info.verified
        print(f"{name}: {info.path} sha256 {info.sha256} {'ok' if info.verified else 'MISMATCH'}")
    return 2 if bad else 0


def _import(args: argparse.Namespace) -> int:
    info = weights.import_weights(args.name, args.path, allow_unverified=args.allow_unverified_weights)
    note = "verified" if info.verified else "UNVERIFIED (sha256 mismatch, stored because you asked)"
    print(f"{args.name}: stored {info.path} ({note})")
    return 0


def _download(args: argparse.Namespace) -> int:
    entry = weights.WEIGHTS.get(args.name)
    print(f"{args.name}: downloading {entry.url}")
    info = weights.download(args.name)
    print(f"{args.name}: stored {info.path} (verified)")
    return 0
