"""The built-in digits read scikit-learn's data file directly: the same images and labels as load_digits."""
from __future__ import annotations

import numpy as np

from genbench.data import builtin


def test_digits_file_equals_load_digits():
    from sklearn.datasets import load_digits

    images, target = builtin._digits_file()
    d = load_digits()
    assert np.array_equal(images, d.images) and np.array_equal(target, d.target)
    gray, labels = builtin._digits_raw()
    assert gray.dtype == np.uint8 and gray.shape == (1797, 8, 8) and labels.dtype == np.int64
