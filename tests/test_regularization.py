"""Weight decay and KL weights derived from the data size."""
import pytest

from bdl_tf.regularization import dropout_weight_decay, kl_weight, model_precision


def test_weight_decay_formula_and_inverse():
    # l = 0.01, p = 0.1, N = 500, tau = 0.5: 1e-4 * 0.9 / (2 * 500 * 0.5) = 1.8e-7
    lam = dropout_weight_decay(1e-2, 0.1, 500, 0.5)
    assert lam == pytest.approx(1.8e-7)
    assert model_precision(1e-2, 0.1, 500, lam) == pytest.approx(0.5)


def test_weight_decay_falls_with_the_data_size():
    assert dropout_weight_decay(1.0, 0.1, 1000, 1.0) == pytest.approx(dropout_weight_decay(1.0, 0.1, 100, 1.0) / 10)


def test_kl_weight_is_one_over_n():
    assert kl_weight(250) == pytest.approx(1 / 250)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(length_scale=0, dropout_rate=0.1, n_train=10, tau=1), "length_scale"),
        (dict(length_scale=1, dropout_rate=1.0, n_train=10, tau=1), "dropout_rate"),
        (dict(length_scale=1, dropout_rate=0.1, n_train=0, tau=1), "n_train"),
        (dict(length_scale=1, dropout_rate=0.1, n_train=10, tau=-1), "tau"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        dropout_weight_decay(**kwargs)
