"""ood_split: which examples go where, the re-indexed labels, and refused inputs."""
import numpy as np
import pytest
from sklearn.datasets import load_digits

from bdl_tf.datasets.splits import ood_split


def test_held_out_classes_never_reach_the_training_part():
    digits = load_digits()
    split = ood_split(digits.data, digits.target, [7, 8, 9])
    assert set(split.y_out) == {7, 8, 9}
    assert len(split.x_in) + len(split.x_out) == len(digits.data)
    np.testing.assert_array_equal(split.in_classes, np.arange(7))
    np.testing.assert_array_equal(split.x_in, digits.data[digits.target < 7])  # order kept
    np.testing.assert_array_equal(split.x_out, digits.data[digits.target >= 7])


def test_kept_labels_are_reindexed_and_map_back():
    x = np.arange(12).reshape(6, 2)
    y = np.array([5, 2, 9, 2, 7, 5])
    split = ood_split(x, y, held_out_classes=[2])
    np.testing.assert_array_equal(split.in_classes, [5, 7, 9])
    np.testing.assert_array_equal(split.y_in, [0, 2, 1, 0])
    np.testing.assert_array_equal(split.in_classes[split.y_in], [5, 9, 7, 5])
    np.testing.assert_array_equal(split.x_out, [[2, 3], [6, 7]])
    np.testing.assert_array_equal(split.y_out, [2, 2])


@pytest.mark.parametrize(
    "x, y, held_out, match",
    [
        (np.zeros((3, 2)), np.array([0, 1]), [1], "x must have 2 examples"),
        (np.zeros((2, 2)), np.array([0.0, 1.0]), [1], "integer labels"),
        (np.zeros((2, 2)), np.array([0, 1]), [], "non-empty"),
        (np.zeros((2, 2)), np.array([0, 1]), [3], r"not in y: \[3\]"),
        (np.zeros((2, 2)), np.array([0, 1]), [0, 1], "every class"),
    ],
)
def test_bad_input_is_refused(x, y, held_out, match):
    with pytest.raises(ValueError, match=match):
        ood_split(x, y, held_out)
