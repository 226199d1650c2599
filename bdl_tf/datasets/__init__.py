"""Data sets for the course: made in code, shipped in packages, or loaded from a local folder/cache.

Downloads (MNIST, Fashion-MNIST, the UCI benchmark) are cached under ``$BDL_TF_CACHE`` or
``~/.cache/bdl_tf``; without the network, MNIST falls back to digits shipped inside a package.
"""
from bdl_tf.datasets._cache import default_cache_dir
from bdl_tf.datasets.mnist import (
    ImageData,
    binarize_dynamic,
    binarize_static,
    load_fashion_mnist,
    load_mnist,
    load_offline_digits,
    read_idx,
    read_mnist_npz,
)
from bdl_tf.datasets.splits import OODSplit, ood_split
from bdl_tf.datasets.toy import Split, ToyRegression, digits, toy_function, toy_noise_std, toy_regression, two_moons
from bdl_tf.datasets.uci import UCIDataset, UCISplit, load_uci, load_uci_folder

__all__ = [
    "ImageData",
    "OODSplit",
    "Split",
    "ToyRegression",
    "UCIDataset",
    "UCISplit",
    "binarize_dynamic",
    "binarize_static",
    "default_cache_dir",
    "digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_offline_digits",
    "load_uci",
    "load_uci_folder",
    "ood_split",
    "read_idx",
    "read_mnist_npz",
    "toy_function",
    "toy_noise_std",
    "toy_regression",
    "two_moons",
]
