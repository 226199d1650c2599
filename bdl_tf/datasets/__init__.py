"""Data sets for the course: made in code, shipped in packages, or loaded from a local folder/cache."""
from bdl_tf.datasets.toy import Split, ToyRegression, digits, toy_function, toy_noise_std, toy_regression, two_moons

__all__ = ["Split", "ToyRegression", "digits", "toy_function", "toy_noise_std", "toy_regression", "two_moons"]
