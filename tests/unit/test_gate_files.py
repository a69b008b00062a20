"""Gate inputs as files: the features file (format, hash, determinism), the result schema, and the
recomputation that refuses an edited result; the CLI pairs from a result and its features file alone."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from genbench.cli import main
from genbench.compare.features_file import features_path, read_features, sha256_of, write_features
from genbench.compare.gate import FAIL, INCONCLUSIVE, GateReport, RuleOutcome, parse_rule
from genbench.compare.result_schema import load_result
from genbench.errors import InputError

ROWS = {"digits-classifier": {"embedding": np.arange(12, dtype=np.float32).reshape(4, 3),
                              "logits": np.ones((4, 2), dtype=np.float32)}}
IDENT = {"digits-classifier": {"name": "digits-classifier", "version": "1"}}


def test_features_file_round_trip_is_deterministic_and_pickle_free(tmp_path: Path) -> None:
    a, b = tmp_path / "a.features.npz", tmp_path / "b.features.npz"
    rec = write_features(a, "ab" * 32, 4, ROWS, IDENT)
    write_features(b, "ab" * 32, 4, ROWS, IDENT)
    assert rec["sha256"] == sha256_of(a) == sha256_of(b) and rec["path"] == a.name
    ff = read_features(a, rec["sha256"])
    assert ff.fingerprint == "ab" * 32 and ff.n == 4 and ff.identities == IDENT
    assert (ff.raw("digits-classifier")["embedding"] == ROWS["digits-classifier"]["embedding"]).all()
    with np.load(a, allow_pickle=False) as z:
        assert z["digits-classifier.embedding"].dtype == np.float32
    assert features_path(tmp_path / "R.json").name == "R.features.npz"


def test_features_file_refuses_a_changed_or_malformed_file(tmp_path: Path) -> None:
    path = tmp_path / "r.features.npz"
    rec = write_features(path, "ab" * 32, 4, ROWS, IDENT)
    with pytest.raises(InputError, match="sha256"):
        read_features(path, "0" * 64)
    np.savez(path, format=np.array("genbench-features/1"), fingerprint=np.array("x"), n=np.array(4),
             identities=np.array("{}"), **{"e.embedding": np.zeros((4, 3))})  # float64: refused
    with pytest.raises(InputError, match="float32"):
        read_features(path)
    with pytest.raises(InputError, match="sha256"):
        read_features(path, rec["sha256"])
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable"):
        read_features(path)


def _valid() -> dict:
    return {"name": "m", "metrics": {"fd": {"value": 1.5, "std": 0.1, "ci95": [1.3, 1.7]}},
            "directions": {"fd": False}, "skipped": {},
            "protocol": {"protocol": "digits-default", "protocol_version": "2", "n_gen": 10, "seed": 0},
            "samples": {"n": 10, "fingerprint": "ab" * 32, "source": "x.npz"},
            "reference": {"n": 5, "fingerprint": "cd" * 32}}


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["metrics"]["fd"].update(value=True), "metrics.fd.value"),
    (lambda d: d["metrics"]["fd"].update(value="1.5"), "metrics.fd.value"),
    (lambda d: d["metrics"]["fd"].update(ci95=[1.0, "x"]), "metrics.fd.ci95"),
    (lambda d: d["samples"].update(n=True), "samples.n"),
    (lambda d: d["samples"].update(features_file={"path": "../x.features.npz", "sha256": "0" * 64}),
     "samples.features_file.path"),
    (lambda d: d["samples"].update(features_file={"path": "r.features.npz", "sha256": "xyz"}),
     "samples.features_file.sha256"),
    (lambda d: d.update(name=7), "name"),
    (lambda d: d.pop("metrics"), "(top level)"),
])
def test_schema_names_the_bad_field(tmp_path: Path, edit, field: str) -> None:
    d = _valid()
    edit(d)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(d))
    with pytest.raises(InputError, match=rf"r\.json: field {field.replace('(', '[(]').replace(')', '[)]')}"):
        load_result(path, "--baseline")


@pytest.mark.parametrize("text,why", [
    ('{"metrics": {"fd": {"value": NaN}}}', "NaN is not a JSON number"),
    ('{"metrics": {"fd": {"value": 1' + "0" * 60 + "}}}", "numeric literal"),
    ("[" * 100 + "]" * 100, "nested deeper"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ("{", "not a genbench result JSON"),
])
def test_parser_bounds_its_input(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(InputError, match=why):
        load_result(path, "--candidate")


def test_valid_result_loads(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_valid()))
    assert load_result(path, "--baseline").metrics["fd"].value == 1.5


def test_lenient_never_passes_a_point_difference_past_its_tolerance() -> None:
    rule = parse_rule("fd<=+2.0")
    past = RuleOutcome(rule, 10.0, 12.5, 2.5, 1.0, 4.0, INCONCLUSIVE, True)
    within = RuleOutcome(rule, 10.0, 11.5, 1.5, 0.5, 2.5, INCONCLUSIVE, True)
    assert GateReport((past,), "c", "b", "p").exit_code(strict=False) == 1
    assert GateReport((within,), "c", "b", "p").exit_code(strict=False) == 0
    assert GateReport((within,), "c", "b", "p").exit_code(strict=True) == 1
    assert past.to_json()["past_tolerance"] is True and FAIL not in {past.status, within.status}


# ---- the CLI, end to end on real digits at a small N (--allow-n-mismatch; B kept small) -------------------
N = 200


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A baseline recorded with --save-features and two candidate sample sets (same; one class missing)."""
    from genbench.data import load_dataset

    root = tmp_path_factory.mktemp("gatefiles")
    d = load_dataset("digits-train")
    x, labels = np.asarray(d.data), np.asarray(d.labels)
    np.savez(root / "base.npz", arr_0=x[:N].transpose(0, 2, 3, 1))
    np.savez(root / "same.npz", arr_0=x[:N].transpose(0, 2, 3, 1))
    np.savez(root / "drop.npz", arr_0=x[labels != 3][:N].transpose(0, 2, 3, 1))
    home = root / "home-record"
    args = ["--protocol", "digits-default", "--metrics", "fd,pr,modes", "--bootstrap", "0", "--cache-dir", str(home)]
    assert main(["eval", "--samples", str(root / "base.npz"), "--json", str(root / "base.json"), "--save-features",
                 *args]) == 0
    assert main(["eval", "--samples", str(root / "drop.npz"), "--json", str(root / "drop.json"), "--save-features",
                 *args]) == 0
    (root / "base.npz").unlink()  # the gate sees the result and its features file only
    return root


def _gate(root: Path, cand: str, base: str, *extra: str) -> tuple[int, dict | None]:
    out = root / "gate.json"
    out.unlink(missing_ok=True)
    code = main(["gate", "--candidate", str(root / cand), "--baseline", str(root / base), "--allow-n-mismatch",
                 "--num-samples", str(N), "--bootstrap", "20", "--cache-dir", str(root / "fresh-cache"), "--json", str(out), *extra])
    return code, json.loads(out.read_text()) if out.is_file() else None


def test_eval_save_features_records_the_file(recorded: Path) -> None:
    rec = json.loads((recorded / "base.json").read_text())["samples"]["features_file"]
    ff = read_features(recorded / rec["path"], rec["sha256"])
    assert rec["path"] == "base.features.npz" and set(ff.rows) == {"digits-classifier", "pixels"}
    assert set(ff.raw("digits-classifier")) == {"embedding", "logits"} and ff.n == N
    assert ff.derived == {}  # plain digits: modes reads class_probs (from logits), no channel classes


def test_gate_pairs_from_the_files_alone(recorded: Path) -> None:
    code, report = _gate(recorded, "same.npz", "base.json", "--lenient")  # N = 200: wide intervals
    assert code == 0 and report["paired"] is True and all(r["diff"] == 0 for r in report["rules"])
    assert report["features_files"] == {"baseline": "base.features.npz"}
    code, report = _gate(recorded, "drop.json", "base.json")  # a candidate result with its own features file
    assert code == 1 and report["paired"] is True
    assert any(r["metric"] == "classes_covered" and r["status"] == "fail" for r in report["rules"])


def test_gate_refuses_an_edited_result(recorded: Path, tmp_path: Path, capsys) -> None:
    import shutil

    for f in ("base.json", "base.features.npz", "drop.json", "drop.features.npz", "same.npz"):
        shutil.copy(recorded / f, tmp_path / f)
    base = json.loads((tmp_path / "base.json").read_text())
    base["metrics"]["fd"]["value"] += 1.0
    (tmp_path / "base.json").write_text(json.dumps(base))
    capsys.readouterr()
    assert _gate(tmp_path, "same.npz", "base.json")[0] == 2
    assert "metric 'fd' is recorded as" in capsys.readouterr().err
    drop = json.loads((tmp_path / "drop.json").read_text())
    drop["samples"]["fingerprint"] = json.loads((recorded / "base.json").read_text())["samples"]["fingerprint"]
    (tmp_path / "drop.json").write_text(json.dumps(drop))
    shutil.copy(recorded / "base.json", tmp_path / "base.json")
    assert _gate(tmp_path, "drop.json", "base.json")[0] == 2
    assert "computed from other samples" in capsys.readouterr().err
    data = bytearray((tmp_path / "base.features.npz").read_bytes())
    data[len(data) // 2] ^= 1  # one bit of one feature row
    (tmp_path / "base.features.npz").write_bytes(bytes(data))
    assert _gate(tmp_path, "same.npz", "base.json")[0] == 2
    assert "sha256" in capsys.readouterr().err


def test_candidate_result_without_features_is_refused(recorded: Path, tmp_path: Path, capsys) -> None:
    drop = json.loads((recorded / "drop.json").read_text())
    del drop["samples"]["features_file"]
    (tmp_path / "drop.json").write_text(json.dumps(drop))
    import shutil

    shutil.copy(recorded / "base.json", tmp_path / "base.json")
    shutil.copy(recorded / "base.features.npz", tmp_path / "base.features.npz")
    capsys.readouterr()
    assert _gate(tmp_path, "drop.json", "base.json")[0] == 2
    assert "never taken from a JSON" in capsys.readouterr().err


def test_gate_reopens_a_reference_cut_by_num_ref(recorded: Path) -> None:
    """A baseline scored against the first 200 reference images records the reference as
    `dataset:digits-test[:200]`; the gate reopens that set (checked by its fingerprint) and pairs."""
    args = ["--protocol", "digits-default", "--metrics", "fd,pr,modes", "--bootstrap", "0", "--num-ref", "200",
            "--cache-dir", str(recorded / "home-numref")]
    assert main(["eval", "--samples", str(recorded / "same.npz"), "--json", str(recorded / "cut.json"),
                 "--save-features", *args]) == 0
    assert json.loads((recorded / "cut.json").read_text())["reference"]["source"] == "dataset:digits-test[:200]"
    code, report = _gate(recorded, "same.npz", "cut.json", "--lenient")  # scored against the baseline's reference
    assert code == 0 and report["paired"] is True and all(r["diff"] == 0 for r in report["rules"])
    assert main(["eval", "--samples", str(recorded / "drop.npz"), "--json", str(recorded / "cut-drop.json"),
                 "--save-features", *args]) == 0
    out = recorded / "gate-cut.json"  # two results, a fresh cache: the cut reference is reopened from its record
    assert main(["gate", "--candidate", str(recorded / "cut-drop.json"), "--baseline", str(recorded / "cut.json"),
                 "--allow-n-mismatch", "--bootstrap", "20", "--cache-dir", str(recorded / "cache-cut"),
                 "--json", str(out)]) == 1
    assert json.loads(out.read_text())["paired"] is True


def test_independent_gate_ignores_an_edited_std_and_interval(recorded: Path, tmp_path: Path) -> None:
    """Issue #27: --independent reads each side's own interval; edited to 1e-9 and [v, v] in both files it
    used to turn INCONCLUSIVE into PASS. The intervals are recomputed from the features files instead."""
    import shutil

    for f in ("base.json", "base.features.npz", "drop.json", "drop.features.npz"):
        shutil.copy(recorded / f, tmp_path / f)
    args = ("--independent", "--rule", "fd<=+2", "--lenient")
    want = _gate(tmp_path, "drop.json", "base.json", *args)
    for name in ("base.json", "drop.json"):
        doc = json.loads((tmp_path / name).read_text())
        for v in doc["metrics"].values():
            v.update(std=1e-9, ci95=[v["value"], v["value"]])
        (tmp_path / name).write_text(json.dumps(doc))
    got = _gate(tmp_path, "drop.json", "base.json", *args)
    assert got[0] == want[0] and got[1]["rules"] == want[1]["rules"]


# ---- issue #27 class 1: a baseline with no rows to recompute from is refused unless taken on trust ----------
def _bare_baseline(recorded: Path, folder: Path, fd: float | None = None) -> Path:
    """base.json without its features_file entry (and its samples gone): nothing can recompute its values."""
    doc = json.loads((recorded / "base.json").read_text())
    del doc["samples"]["features_file"]
    if fd is not None:
        doc["metrics"]["fd"]["value"] = fd
    (folder / "bare.json").write_text(json.dumps(doc))
    return folder / "bare.json"


def test_baseline_without_rows_is_refused_unless_trusted(recorded: Path, tmp_path: Path, capsys) -> None:
    """Issue #27: a faked baseline fd (here 1e6) used to decide the fd rule with only a warning."""
    _bare_baseline(recorded, tmp_path, fd=1e6)
    import shutil

    shutil.copy(recorded / "drop.npz", tmp_path / "drop.npz")  # same.npz would pair: the baseline's own images
    capsys.readouterr()
    for extra in ((), ("--independent",)):
        code, report = _gate(tmp_path, "drop.npz", "bare.json", "--rule", "fd<=+2", "--quiet", *extra)
        err = capsys.readouterr().err
        assert code == 2 and report is None and "--trust-baseline-values" in err and len(err.splitlines()) == 1
        assert "records no features file" in err and "recomputed from checked rows" in err
    code, report = _gate(tmp_path, "drop.npz", "bare.json", "--rule", "fd<=+2", "--trust-baseline-values")
    out = capsys.readouterr()
    trusted = report["taken_on_trust"]
    assert report["paired"] is False and trusted["side"] == "baseline" and trusted["kind"] == "result file"
    assert trusted["metrics"]["fd"]["value"] == 1e6 and set(trusted["metrics"]) == {"fd"}
    assert trusted["n"] == N and "seed" in trusted and trusted["why"]
    assert "taken on trust (--trust-baseline-values)" in out.out and "fd: value 1e+06" in out.out
    assert "taken on trust" in out.err


def test_paired_baseline_takes_nothing_on_trust(recorded: Path) -> None:
    code, report = _gate(recorded, "same.npz", "base.json", "--lenient")
    assert code == 0 and report["taken_on_trust"] is None


def test_board_baseline_without_rows_is_refused_unless_trusted(recorded: Path, tmp_path: Path, capsys) -> None:
    """A leaderboard row holds no feature rows: the same flag, and the message says it is a board row."""
    from genbench.board.leaderboard import Leaderboard
    from genbench.eval.result import EvalResult

    board = tmp_path / "b.jsonl"
    Leaderboard.load(board).add_result(EvalResult.load(_bare_baseline(recorded, tmp_path)), "old")
    argv = ["gate", "--candidate", str(recorded / "drop.npz"), "--baseline", "old", "--board", str(board),
            "--allow-n-mismatch", "--num-samples", str(N), "--rule", "fd<=+2", "--lenient",
            "--cache-dir", str(tmp_path / "cache"), "--json", str(tmp_path / "g.json")]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "leaderboard row" in err and "--trust-baseline-values" in err and not (tmp_path / "g.json").exists()
    assert main([*argv, "--trust-baseline-values"]) in (0, 1)
    trusted = json.loads((tmp_path / "g.json").read_text())["taken_on_trust"]
    assert trusted["kind"] == "leaderboard row" and "fd" in trusted["metrics"]


def test_a_baseline_whose_rows_are_found_needs_no_trust(recorded: Path, tmp_path: Path) -> None:
    """A board row (or a JSON without features file) whose rows are found by fingerprint (here: the
    candidate's own images) pairs: the decision reads only recomputed numbers, so no flag is needed."""
    from genbench.board.leaderboard import Leaderboard
    from genbench.eval.result import EvalResult

    board = tmp_path / "b.jsonl"
    Leaderboard.load(board).add_result(EvalResult.load(_bare_baseline(recorded, tmp_path, fd=1e6)), "old")
    for spec in ("old", str(tmp_path / "bare.json")):
        out = tmp_path / "g.json"
        assert main(["gate", "--candidate", str(recorded / "same.npz"), "--baseline", spec, "--board", str(board),
                     "--allow-n-mismatch", "--num-samples", str(N), "--rule", "fd<=+2", "--lenient", "--quiet",
                     "--bootstrap", "20", "--cache-dir", str(tmp_path / "cache"), "--json", str(out)]) == 0
        report = json.loads(out.read_text())
        assert report["paired"] is True and report["taken_on_trust"] is None
        assert report["rules"][0]["baseline"] != 1e6  # recomputed from the rows, not the edited value


def test_a_baseline_without_rows_is_refused_before_any_scoring(recorded: Path, tmp_path: Path, monkeypatch,
                                                               capsys) -> None:
    """Validate before work: when neither the recorded source, the cache nor the candidate's images can give
    the baseline's rows, the refusal comes before the candidate is scored."""
    import genbench.eval.run

    _bare_baseline(recorded, tmp_path)

    def no_scoring(*_a, **_k):
        raise AssertionError("the candidate was scored before the refusal")

    monkeypatch.setattr(genbench.eval.run, "evaluate", no_scoring)
    capsys.readouterr()
    for extra in ((), ("--independent",)):
        code, report = _gate(tmp_path, str(recorded / "drop.npz"), "bare.json", "--quiet", *extra)
        err = capsys.readouterr().err
        assert code == 2 and report is None and "--trust-baseline-values" in err and "scored before" not in err
