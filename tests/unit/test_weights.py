"""The offline weights store: resolution order, sha256 checks, import, error messages, CLI."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from genbench.errors import ConfigError, UnknownNameError, WeightsError
from genbench.features import weights
from genbench.features.weights import WEIGHTS, WeightsEntry


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fake_entry(monkeypatch: pytest.MonkeyPatch) -> tuple[str, bytes]:
    """Point the inception entry at a tiny file whose sha256 we know."""
    data = b"pretend these are weights\n"
    entry = WEIGHTS.get("inception-v3-tf")
    fake = WeightsEntry(entry.name, entry.filename, hashlib.sha256(data).hexdigest(), entry.url, entry.description)
    monkeypatch.setitem(WEIGHTS._items, entry.name, fake)
    return entry.name, data


def test_registry_entries() -> None:
    inc, clip = WEIGHTS.get("inception-v3-tf"), WEIGHTS.get("clip-vit-b-32")
    assert inc.filename == "weights-inception-2015-12-05-6726825d.pth" and inc.sha256.startswith("6726825d")
    assert inc.url.endswith(inc.filename) and "torch-fidelity" in inc.url
    assert clip.sha256 in clip.url and clip.filename == "ViT-B-32.pt"
    for e in weights.list_entries():
        if e.name == "dinov2-vit-l-14":  # Meta publishes no digest: unknown until verified (matches no file)
            assert e.sha256 == ""
            continue
        assert len(e.sha256) == 64 and int(e.sha256, 16) >= 0


def test_missing_weights_message_names_file_url_and_command(home: Path) -> None:
    with pytest.raises(WeightsError) as err:
        weights.resolve("inception-v3-tf")
    msg = str(err.value)
    entry = WEIGHTS.get("inception-v3-tf")
    assert str(home / "weights" / entry.filename) in msg
    assert entry.url in msg
    assert "genbench weights import inception-v3-tf PATH" in msg


def test_missing_explicit_path(home: Path, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="nope.pth"):
        weights.resolve("clip-vit-b-32", tmp_path / "nope.pth")


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownNameError, match="inception-v3-tf"):
        weights.resolve("inception-v3")


def test_hash_mismatch_refused_unless_allowed(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not the real file")
    with pytest.raises(WeightsError, match="sha256.*allow-unverified-weights"):
        weights.resolve("inception-v3-tf", bad)
    path, info = weights.resolve("inception-v3-tf", bad, allow_unverified=True)
    assert path == bad and info.verified is False
    assert info.sha256 == hashlib.sha256(b"not the real file").hexdigest() and info.name == "inception-v3-tf"


def test_store_and_explicit_path_verify(home: Path, tmp_path: Path, fake_entry: tuple[str, bytes]) -> None:
    name, data = fake_entry
    stored = home / "weights" / WEIGHTS.get(name).filename
    stored.parent.mkdir(parents=True)
    stored.write_bytes(data)
    path, info = weights.resolve(name)
    assert path == stored and info.verified and info.path == str(stored)
    other = tmp_path / "elsewhere.pth"
    other.write_bytes(data)
    assert weights.resolve(name, other)[0] == other  # explicit path first


def test_genbench_home_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_HOME", str(tmp_path / "gh"))
    assert weights.store_path("clip-vit-b-32") == tmp_path / "gh" / "weights" / "ViT-B-32.pt"
    monkeypatch.delenv("GENBENCH_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert weights.store_dir() == tmp_path / "user" / ".cache" / "genbench" / "weights"


def test_import_copies_and_verifies(home: Path, tmp_path: Path, fake_entry: tuple[str, bytes]) -> None:
    name, data = fake_entry
    src = tmp_path / "download.pth"
    src.write_bytes(data)
    info = weights.import_weights(name, src)
    assert info.verified and Path(info.path).read_bytes() == data and src.exists()
    assert weights.status(name).present and weights.status(name).verified
    assert not [p for p in (home / "weights").iterdir() if p.name.endswith(".tmp")]


def test_import_refuses_mismatch_unless_forced(home: Path, tmp_path: Path, fake_entry: tuple[str, bytes]) -> None:
    name, _ = fake_entry
    src = tmp_path / "other.pth"
    src.write_bytes(b"something else")
    with pytest.raises(WeightsError, match="does not match"):
        weights.import_weights(name, src)
    assert not weights.store_path(name).exists()
    info = weights.import_weights(name, src, allow_unverified=True)
    assert not info.verified and weights.store_path(name).read_bytes() == b"something else"
    assert weights.verify(name).verified is False


def test_sha256_streams_large_files(tmp_path: Path) -> None:
    data = bytes(range(256)) * (3 * 4096 + 7)  # > 3 chunks of 1 MiB
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    assert weights.sha256_file(p) == hashlib.sha256(data).hexdigest()


def test_parse_weights_args(tmp_path: Path) -> None:
    from genbench.commands.common import parse_weights

    got = parse_weights([f"inception-v3-tf={tmp_path}/a.pth"])
    assert got == {"inception-v3-tf": f"{tmp_path}/a.pth"}
    with pytest.raises(ConfigError, match="NAME=PATH"):
        parse_weights(["inception-v3-tf"])
    with pytest.raises(UnknownNameError):
        parse_weights(["incepton=/x"])


def test_cli_list_import_verify(home: Path, tmp_path: Path, fake_entry: tuple[str, bytes],
                                capsys: pytest.CaptureFixture) -> None:
    from genbench.cli import main

    name, data = fake_entry
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "inception-v3-tf" in out and "clip-vit-b-32" in out and "present" in out
    src = tmp_path / "w.pth"
    src.write_bytes(b"wrong")
    assert main(["weights", "import", name, str(src)]) == 2
    assert "does not match" in capsys.readouterr().err
    src.write_bytes(data)
    assert main(["weights", "import", name, str(src)]) == 0
    assert main(["weights", "verify", name]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["weights", "verify", "clip-vit-b-32"]) == 2  # missing file
