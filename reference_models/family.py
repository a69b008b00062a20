"""Reference-model families as declared data: one file per family in `reference_models/families/`.

A `Family` carries the model class, its frozen config class, its named presets (every family has `tiny`
for tests, `quick` for CPU minutes and `full` for a GPU) and the built-in dataset its `tiny` preset trains
on. `FAMILIES` discovers the files (genbench.registry.import_submodules) and validates each entry at
registration, so a new family is one new file, found by the tests, the CLI's help and its error messages.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from genbench.data.builtin import DATASETS
from genbench.errors import RegistrationError, UnknownNameError
from genbench.registry import Registry, hint, import_submodules
from reference_models.base import RefModel
from reference_models.configs import BaseConfig, check_field_names, config_of_class

REQUIRED_PRESETS = ("tiny", "quick", "full")


@dataclass(frozen=True)
class Family:
    name: str
    model: type[RefModel]
    config: type[BaseConfig]
    presets: Mapping[str, BaseConfig]  # preset name -> config; tiny, quick and full at least
    dataset: str  # the built-in dataset the tiny preset trains on (tests and smoke runs)
    description: str

    def option(self, field: str) -> bool:
        """Whether this family's config has `field` (e.g. pack, image_size, conditional)."""
        return field in {f.name for f in dataclasses.fields(self.config)}


def _check(f: Family) -> None:
    bad = [] if f.model.family == f.name else [f"model class {f.model.__name__} says family {f.model.family!r}"]
    bad += [f"missing preset {p!r}" for p in REQUIRED_PRESETS if p not in f.presets]
    bad += [] if f.dataset in DATASETS else [f"unknown dataset {f.dataset!r}{hint(f.dataset, DATASETS.names())}"]
    bad += [f"preset {p!r} is a {type(c).__name__}, not {f.config.__name__}"
            for p, c in f.presets.items() if type(c) is not f.config]
    if bad:
        raise RegistrationError(f"model family {f.name!r}: " + "; ".join(bad))


FAMILIES: Registry[Family] = Registry("model family", check=_check)


def load_families() -> Registry[Family]:
    """Every family file imported (each registers itself); returns the registry."""
    import_submodules("reference_models.families")
    return FAMILIES


def family_names() -> list[str]:
    return load_families().names()


def get_family(name: str) -> Family:
    return load_families().get(name)


def presets() -> dict[str, dict[str, BaseConfig]]:
    """{family: {preset: config}} over every family."""
    return {name: dict(f.presets) for name, f in load_families().items()}


def get_preset(family: str, preset: str, **overrides: Any) -> BaseConfig:
    """The named preset of a family with field overrides (unknown fields or bad values: ConfigError)."""
    fam = get_family(family)
    if preset not in fam.presets:
        raise UnknownNameError(f"unknown preset {preset!r} for family {family!r} "
                               f"(known: {', '.join(sorted(fam.presets))})")
    cfg = fam.presets[preset]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    check_field_names(type(cfg), overrides, f"{family} config")
    if "ae_steps" in {f.name for f in dataclasses.fields(cfg)} and "steps" in overrides and "ae_steps" not in overrides:
        # --steps sets the total; the autoencoder phase keeps its share of it
        steps = overrides["steps"]
        overrides["ae_steps"] = max(1, min(steps - 1, round(steps * cfg.ae_steps / cfg.steps)))
    return dataclasses.replace(cfg, **overrides)


def config_from_dict(family: str, d: Any, where: str = "config.json") -> BaseConfig:
    """Rebuild and validate a config read from JSON; every field must be present and well typed."""
    if family not in family_names():
        raise UnknownNameError(f"{where}: unknown model family {family!r} (known: {', '.join(family_names())})")
    return config_of_class(get_family(family).config, d, where)
