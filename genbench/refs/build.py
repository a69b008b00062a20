"""Write reference statistics files: from a sample set (`genbench ref`) or from a peer library's file
(`genbench ref import`).

Foreign layouts (all plain .npz):
- pytorch-fid / TTUR: `mu` [D], `sigma` [D, D] (pytorch_fid.fid_score.save_fid_stats writes
  np.savez_compressed(path, mu=m, sigma=s); TTUR's fid_stats_*.npz have the same two keys).
- ADM reference batches (guided-diffusion evaluations/evaluator.py): `mu`, `sigma` (pool features),
  `mu_s`, `sigma_s` (spatial features, for sFID; not imported) and optionally `arr_0`, the reference images
  uint8 [N, H, W, 3], which are kept (as `images`, NCHW) so image metrics and a fingerprint are available.
- clean-fid (cleanfid.fid.make_custom_stats): `mu`, `sigma` in <name>_<mode>_<split>_<res>.npz, and the
  features themselves as `feats` [N, D] in the matching _kid.npz; either file imports (feats are kept).
Such files carry no record: the import records the extractor the user asserts (its version, preprocessing
and registered weights sha256), marks the record `imported`, and refuses a dimension that does not fit
that extractor, non-finite values and a non-symmetric sigma.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from genbench.version import __version__
from genbench.errors import ConfigError, InputError
from genbench.eval.options import EvalOptions, resolve_options
from genbench.eval.plan import check_weights_names, extractor_handle, sibling_path
from genbench.features.base import EXTRACTORS, extractor_class
from genbench.features.cache import FeatureCache
from genbench.io import check_not_input, check_replaceable_file, removed_on_failure
from genbench.eval.inputs import MAX_DECODE_BYTES, POINTS, ExtractOptions, ImageSource
from genbench.refs.stats import FOREIGN_FORMATS, FORMAT, FORMAT_VERSION, RefStats, _read_npz, real_array


def check_out(out: str | Path, what: str = "--out", inputs: tuple = ()) -> Path:
    """An output statistics path: ends in .npz, its folder exists, it is not a folder or a link, it is not
    (and does not hold) an input, and if it exists genbench wrote it (a genbench statistics file)."""
    p = Path(out)
    if p.suffix != ".npz":
        raise ConfigError(f"{what} {out}: a statistics file must end in .npz")
    if p.is_dir():
        raise ConfigError(f"{what} {out}: is a folder; expected a file name")
    if not p.parent.is_dir():
        raise ConfigError(f"{what} {out}: folder {p.parent} does not exist")
    check_not_input(p, list(inputs), what)
    check_replaceable_file(p, is_own_stats, what)
    return p


def is_own_stats(path: Path) -> bool:
    """True for a statistics file genbench wrote (its record says format genbench-refstats)."""
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            rec = json.loads(str(z["record"])) if "record" in z.files else None
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False
    return isinstance(rec, dict) and rec.get("format") == FORMAT


def check_outputs(out: str | Path, names: list[str], inputs: tuple) -> Path:
    """--out and every per-space sibling file (<stem>.<extractor>.npz) follow the same rule, before any work."""
    first = check_out(out, inputs=inputs)
    for name in names[1:]:
        check_out(sibling_path(first, name), f"--out (sibling file for {name})", inputs)
    return first


def _extractor_record(ident: Any) -> dict:
    w = ident.weights
    return {"extractor": ident.name, "extractor_version": ident.version, "preprocess": ident.preprocess,
            "weights": w.name, "weights_sha256": w.sha256, "weights_verified": w.verified}


def _space_names(protocol: str | None, extractor: str | None) -> tuple[str | None, list[tuple[str, bool]]]:
    from genbench.protocols import PROTOCOLS

    if (protocol is None) == (extractor is None):
        raise ConfigError("genbench ref: give exactly one of --protocol P or --extractor E")
    if extractor is not None:
        return None, [(extractor, False)]
    proto = PROTOCOLS.get(protocol)
    names: list[tuple[str, bool]] = []
    for s in proto.spaces:
        if s.extractor != POINTS and s.extractor not in [n for n, _ in names]:
            names.append((s.extractor, s.optional))
    if not names:
        raise ConfigError(f"--protocol {protocol}: has no image feature space (2-D point sets need no statistics)")
    return proto.name, names


def build_reference(source: Any, out: str | Path, *, protocol: str | None = None, keep_features: bool = False,
                    num: int | None = None, options: EvalOptions | None = None, **overrides: Any) -> dict[str, Any]:
    """Write one statistics file per feature space; returns {"written": {extractor: path}, "skipped": {...}}.

    `num`: use the first N images of `source`. Of the EvalOptions (`options=` and/or keywords) it reads
    extractor, batch_size, device, weights, allow_unverified, cache_dir, progress and value_range."""
    opt = resolve_options(options, overrides, "build_reference()")
    opt.refuse(("num_samples", "num_reference", "seed", "bootstrap", "prompt_template"), "build_reference()",
               "a statistics file holds features, not metric values; `num` takes the first N images")
    return _build(source, out, protocol, keep_features, num, opt)


def _build(source: Any, out: str | Path, protocol: str | None, keep_features: bool, num: int | None,
           opt: EvalOptions) -> dict[str, Any]:
    from genbench.errors import WeightsError
    from genbench.numerics import resolve_device
    from genbench.paths import default_cache_dir
    from genbench.sets.samples import open_samples

    extractor, weights, allow_unverified, cache_dir = opt.extractor, opt.weights, opt.allow_unverified, opt.cache_dir
    proto_name, names = _space_names(protocol, extractor)
    out = check_outputs(out, [n for n, _ in names], (source,))
    check_weights_names(weights or {})
    dev = resolve_device(opt.device)
    samples = open_samples(source, value_range=opt.value_range, what="SOURCE").take(num)
    if samples.kind != "images":
        raise InputError(f"{samples.source}: statistics files hold image features; this is a 2-D point set")
    handles, skipped = {}, {}
    for name, optional in names:  # resolve every extractor (and its weights) before decoding anything
        try:
            handles[name] = extractor_handle(name, dev, weights or {}, allow_unverified)
        except WeightsError as e:
            if not optional:
                raise
            skipped[name] = f"weights not installed ({str(e)[:120]}...)"
    cache = FeatureCache(None if cache_dir is False else (cache_dir or default_cache_dir()))
    src = ImageSource(samples, cache, ExtractOptions(batch_size=opt.batch_size, progress=opt.progress))
    src.materialise(MAX_DECODE_BYTES)
    from genbench import distributed

    distributed.agree("genbench ref", {  # torchrun: the source by content, not by path
        "source": {"fingerprint": src.samples.fingerprint, "n": len(src.samples)}, "protocol": proto_name,
        "extractors": {n: h.cache_identity() for n, h in handles.items()}, "keep_features": keep_features})
    paths = {name: out if i == 0 else sibling_path(out, name) for i, name in enumerate(handles)}
    with removed_on_failure(*paths.values()):  # a space that fails removes the files written before it
        return {"written": _write_spaces(handles, paths, src, samples, proto_name, keep_features),
                "skipped": skipped}


def _write_spaces(handles: dict, paths: dict, src: ImageSource, samples: Any, proto_name: str | None,
                  keep_features: bool) -> dict[str, Path]:
    written = {}
    for name, handle in handles.items():
        feats = {r: a for r, a in src.features(handle).items() if not r.startswith("stats_")}
        record = dict(_extractor_record(handle.identity or handle.get()), source=samples.source,
                      source_fingerprint=src.samples.fingerprint, dataset=samples.dataset, protocol=proto_name,
                      traits=sorted(src.traits), genbench_version=__version__, imported=False)
        stats = RefStats.from_features(feats, record, keep=keep_features, labels=samples.labels)
        written[name] = stats.save(paths[name])
    return written


# ---- foreign files --------------------------------------------------------------------------------
def asserted_identity(extractor: str) -> dict:
    """The record of `extractor` as the user asserts it: class version/preprocessing, registered weights."""
    from genbench.features import load_all
    from genbench.features.weights import WEIGHTS

    load_all()
    spec = EXTRACTORS.get(extractor)
    cls = extractor_class(extractor)
    if cls is None:
        raise ConfigError(f"--extractor {extractor}: no extractor class to take its version from")
    sha = (WEIGHTS.get(spec.weights_name).sha256 if spec.weights_name else
           spec.shipped_sha256() if spec.shipped_sha256 else None)
    return {"extractor": extractor, "extractor_version": cls.version, "preprocess": cls.preprocess,
            "weights": spec.weights_name or (extractor if sha else None), "weights_sha256": sha,
            "weights_verified": None}


def _foreign_arrays(z: dict[str, np.ndarray], fmt: str, path: Path) -> tuple[Any, Any, dict, Any]:
    """(mu, sigma, {role: features}, images NCHW | None) from a foreign file's arrays."""
    feats: dict[str, np.ndarray] = {}
    images = None
    if fmt == "clean-fid" and "feats" in z:
        f = real_array(z["feats"], "feats", str(path))
        if f.ndim != 2 or len(f) < 2:
            raise InputError(f"{path}: feats should be [N, D] features with N >= 2, got shape {list(f.shape)}")
        feats["embedding"] = f.astype(np.float32)
    if fmt == "adm" and "arr_0" in z:
        a = np.asarray(z["arr_0"])
        if a.dtype != np.uint8 or a.ndim != 4 or a.shape[-1] != 3:
            raise InputError(f"{path}: arr_0 should be uint8 images [N, H, W, 3], got {a.dtype} {list(a.shape)}")
        images = np.ascontiguousarray(a.transpose(0, 3, 1, 2))  # [N, 3, H, W] uint8
    if "mu" in z and "sigma" in z:
        return z["mu"], z["sigma"], feats, images
    if feats:
        from genbench.refs.stats import mean_cov

        return (*mean_cov(feats["embedding"]), feats, images)
    want = "mu and sigma" + (" (or feats)" if fmt == "clean-fid" else "")
    raise InputError(f"{path}: a {fmt} statistics file needs {want}; found {', '.join(sorted(z)) or 'nothing'}")


def import_stats(file: str | Path, fmt: str, extractor: str, out: str | Path, n: int | None = None) -> Path:
    """Convert a pytorch-fid / ADM / clean-fid statistics file into a genbench statistics file."""
    if fmt not in FOREIGN_FORMATS:
        raise ConfigError(f"--format {fmt}: expected one of {', '.join(FOREIGN_FORMATS)}")
    out = check_out(out, inputs=(file,))
    path = Path(file)
    if not path.is_file():
        raise InputError(f"genbench ref import {file}: no such file")
    z = _read_npz(path)
    mu, sigma, feats, images = _foreign_arrays(z, fmt, path)
    mu, sigma = real_array(mu, "mu", str(path)), real_array(sigma, "sigma", str(path))
    ident = asserted_identity(extractor)
    dim = extractor_class(extractor).dims.get("embedding")
    if dim is not None and np.shape(mu) != (dim,):
        raise InputError(f"{path}: mu has shape {list(np.shape(mu))} but extractor {extractor} gives {dim}-d "
                         "features; name the extractor the statistics were made with")
    rows = len(images) if images is not None else len(feats["embedding"]) if feats else n
    if n is not None and rows is not None and n != rows:
        raise ConfigError(f"--n {n}: {path} holds {rows} rows")
    if rows is None:
        raise ConfigError(f"--n: {path} ({fmt}) does not store how many images mu/sigma come from; give it "
                          "with --n N (the statistics check needs a positive N)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    fingerprint = _images_fingerprint(images) if images is not None else f"file-sha256:{digest}"
    record = dict(ident, format=FORMAT, format_version=FORMAT_VERSION, imported=True, import_format=fmt,
                  source=str(path), source_file_sha256=digest, source_fingerprint=fingerprint, n=rows,
                  dim=int(np.shape(mu)[0]), genbench_version=__version__,
                  note="record asserted by the user at import; the file itself carries none")
    stats = RefStats(mu, sigma, int(rows), record, None, feats, images, None, str(out))
    return stats.save(out)


def _images_fingerprint(images: np.ndarray) -> str:
    from genbench.sets.samples import SampleSet

    return SampleSet.from_array(images, layout="NCHW").fingerprint
