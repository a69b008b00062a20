"""Errors genbench raises on bad input. The CLI maps every GenbenchError to exit code 2."""
from __future__ import annotations


class GenbenchError(Exception):
    """A problem with the user's input or configuration; the message names the file or argument."""

    exit_code = 2


class InputError(GenbenchError):
    """An image, array, file or folder that does not meet the image contract."""


class ConfigError(GenbenchError):
    """A bad argument, option value, preset or protocol."""


class RegistrationError(ConfigError, ValueError):
    """A registry entry refused when it is added (a protocol naming an unknown metric, a duplicate name): a
    developer's error, also a ValueError; the CLI reports it in one line if it happens at import."""


class UnknownNameError(ConfigError):
    """A name that no registry knows (metric, extractor, dataset, protocol, model family)."""


class WeightsError(GenbenchError):
    """Missing or unverified network weights."""


class NotEnoughSamplesError(GenbenchError):
    """A metric was asked for with fewer samples than it needs."""


class MissingInputError(GenbenchError):
    """A metric needs an input (logits, prompts, labels, pairs) that the evaluation does not have."""
