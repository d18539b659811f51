"""Data sets: the seeds' XOR and parity, 2-D toys, digits, (Fashion-)MNIST, and your own files (CSV, .npz, Parquet).

``load_dataset(name, seed)`` returns a named data set already split into training and test
sets; ``DATASETS`` lists the names.
"""

from nablanet.datasets.files import load_csv, load_npz
from nablanet.datasets.idx import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist, read_idx
from nablanet.datasets.parquet import load_parquet
from nablanet.datasets.registry import DATASETS, Dataset, load_dataset
from nablanet.datasets.synthetic import (
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_parity,
    make_spirals,
    make_xor,
)

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "Dataset",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_npz",
    "load_parquet",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_parity",
    "make_spirals",
    "make_xor",
    "read_idx",
]
