"""Honest names: `fid`, `kid` and `is` exist only on Inception features.

The same maths on any other extractor has its own name (`fd`, `kd`, `classifier_score`), so that a number
computed on, say, the digits classifier is never reported as FID, KID or IS. A metric that uses
`inception_only_reason` in its `available` is skipped, with the reason, on every other extractor.
"""
from __future__ import annotations

from genbench.metrics.base import MetricInputs

INCEPTION_EXTRACTORS = frozenset({"inception-v3-tf", "inception-v3-clean"})


def inception_only_reason(name: str, generic: str, inputs: MetricInputs) -> str | None:
    """Why metric `name` is not reported on the inputs' extractor (None: it is an Inception extractor, or
    the caller gave no extractor context, as in direct Python use on arrays)."""
    extractor = inputs.context.get("extractor")
    if extractor is None or extractor in INCEPTION_EXTRACTORS:
        return None
    return (f"{name} is defined on Inception features only ({', '.join(sorted(INCEPTION_EXTRACTORS))}); "
            f"on {extractor} the same maths is {generic}")
