"""Built-in datasets (offline): scikit-learn digits, stacked digits, 2-D Gaussian mixtures."""
from genbench.data.builtin import DATASETS, Dataset, load_dataset, toy2d_modes

__all__ = ["DATASETS", "Dataset", "load_dataset", "toy2d_modes"]
