"""Built-in datasets (offline): scikit-learn digits, stacked digits, 2-D Gaussian mixtures.

Each registers a Dataset (images or points, labels, declared traits) in DATASETS.
May import: the core only.
"""
from genbench.data.builtin import DATASETS, MODE_MIXTURE, Dataset, load_dataset, mixture_names, toy2d_modes

__all__ = ["DATASETS", "MODE_MIXTURE", "Dataset", "load_dataset", "mixture_names", "toy2d_modes"]
