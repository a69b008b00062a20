"""One file per reference-model family: each registers a `reference_models.family.Family` (model class,
config class, presets tiny/quick/full and the dataset its tiny preset trains on). Files here are found by
discovery; nothing lists them."""
