"""Honest names: `fid`, `kid` and `is` exist only on Inception features.

The same maths on any other extractor has its own name (`fd`, `kd`, `classifier_score`), so that a number
computed on, say, the digits classifier is never reported as FID, KID or IS. A metric that uses
`inception_only_reason` in its `available` is skipped, with the reason, on every other extractor.
An extractor is an Inception one when it declares the trait "inception" (ExtractorSpec.traits); the
evaluation passes the extractor's traits in the inputs' context ("extractor_traits").
"""
from __future__ import annotations

from genbench.metrics.base import MetricInputs

INCEPTION = "inception"  # the extractor trait


def inception_only_reason(name: str, generic: str, inputs: MetricInputs) -> str | None:
    """Why metric `name` is not reported on the inputs' extractor (None: it is an Inception extractor, or
    the caller gave no extractor context, as in direct Python use on arrays)."""
    extractor = inputs.context.get("extractor")
    if extractor is None or INCEPTION in inputs.context.get("extractor_traits", ()):
        return None
    return (f"{name} is defined on Inception features only (extractors with the trait {INCEPTION!r}); "
            f"on {extractor} the same maths is {generic}")
