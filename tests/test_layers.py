"""Always-on dropout layers and concrete dropout: behaviour, config, save/load."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from scipy import stats

from bdl_tf import set_seed
from bdl_tf.layers import (
    MASK_BITS,
    ConcreteDropout,
    MCDropout,
    MCSpatialDropout1D,
    MCSpatialDropout2D,
    MCSpatialDropout3D,
    bernoulli_dropout,
    keep_probability,
)


def test_mc_dropout_is_on_at_inference_and_scales_kept_units():
    layer = MCDropout(0.5)
    x = np.ones((4, 1000), np.float32)
    out = layer(x, training=False).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - p)
    assert 0.45 < (out == 0).mean() < 0.55  # 4000 Bernoulli(1/2) draws: sd of the fraction = 0.008


def test_masks_differ_between_calls_and_between_rows():
    layer = MCDropout(0.5)
    x = np.ones((2, 64), np.float32)
    first, second = layer(x).numpy(), layer(x).numpy()
    assert not np.array_equal(first, second)
    assert not np.array_equal(first[0], first[1])


def test_same_seed_reproduces_masks():
    x = np.ones((3, 32), np.float32)
    set_seed(7)
    a = MCDropout(0.3)(x).numpy()
    set_seed(7)
    b = MCDropout(0.3)(x).numpy()
    np.testing.assert_array_equal(a, b)


def test_keep_probability_is_one_minus_the_rate_to_the_mask_resolution():
    rates = np.linspace(0.0, 0.999, 1000)
    keeps = np.array([keep_probability(r) for r in rates])
    assert np.all(np.abs(keeps - (1 - rates)) <= 2.0 ** -(MASK_BITS + 1))
    assert np.all(keeps * 2**MASK_BITS == np.round(keeps * 2**MASK_BITS))  # multiples of 2^-16
    assert keep_probability(1e-6) == 1.0  # below half a level: no dropout
    assert keep_probability(1 - 1e-9) == 2.0**-MASK_BITS  # never 0: the 1/q scale stays finite
    assert keep_probability(0.1) == 58982 / 65536


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_mask_entries_are_bernoulli_with_the_stated_keep_probability(rate):
    """An odd number of entries (two masks share each 32-bit random word, the last one is cut):
    the kept count is Binomial(n, q); 5 standard deviations, a false alarm once in 1.7 million."""
    set_seed(0)
    q = keep_probability(rate)
    out = bernoulli_dropout(np.ones((101, 1999), np.float32), rate).numpy()
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / q], rtol=1e-6)
    kept = (out != 0).sum()
    n = out.size
    assert abs(kept - n * q) < 5 * np.sqrt(n * q * (1 - q))
    # unbiased: E[x m / q] = x, the sample mean within 5 standard errors sqrt((1 - q) / (q n))
    assert abs(out.mean() - 1.0) < 5 * np.sqrt((1 - q) / (q * n))


def test_mask_entries_are_independent_of_their_neighbours_rows_and_calls():
    """Chi-square tests of independence on 2 x 2 tables of (kept, kept) counts: the two halves of
    one random word, neighbouring rows, and the same entry in two calls.  Threshold p > 1e-6."""
    set_seed(1)
    x = np.ones((400, 500), np.float32)
    first, second = (bernoulli_dropout(x, 0.5).numpy() != 0 for _ in range(2))
    pairs = {
        "halves of a word": (first[:, 0::2], first[:, 1::2]),
        "neighbouring rows": (first[0::2], first[1::2]),
        "two calls": (first, second),
    }
    for name, (a, b) in pairs.items():
        table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
        assert stats.chi2_contingency(table).pvalue > 1e-6, name


def test_masks_are_fresh_in_every_iteration_of_a_compiled_loop():
    layer = MCDropout(0.5)
    x = tf.ones((1, 256))

    @tf.function
    def passes():  # a tf.while_loop: the per-call seed must not be hoisted out of it
        outputs = tf.TensorArray(tf.float32, size=3)
        for i in tf.range(3):
            outputs = outputs.write(i, layer(x))
        return outputs.stack()

    out = passes().numpy()
    assert not np.array_equal(out[0], out[1]) and not np.array_equal(out[1], out[2])


def test_noise_shape_is_broadcast_and_dtype_kept():
    out = bernoulli_dropout(tf.ones((2000, 7), tf.float64), 0.5, noise_shape=(2000, 1)).numpy()
    assert out.dtype == np.float64
    assert np.all(out.min(axis=1) == out.max(axis=1))  # a whole row kept or dropped
    assert 0.4 < (out[:, 0] == 0).mean() < 0.6
    np.testing.assert_array_equal(bernoulli_dropout(tf.ones((3, 4)), 0.0).numpy(), np.ones((3, 4)))
    assert np.all(np.isfinite(bernoulli_dropout(tf.ones((3, 4)), 1 - 1e-9).numpy()))


def test_spatial_dropout_drops_whole_feature_maps():
    x = np.ones((2, 5, 5, 64), np.float32)
    out = MCSpatialDropout2D(0.5)(x, training=False).numpy()
    per_map = out.reshape(2, 25, 64)
    assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # each map all dropped or all kept
    assert 0 < (per_map[:, 0, :] == 0).mean() < 1
    assert MCSpatialDropout1D(0.5)(np.ones((1, 4, 8), np.float32)).shape == (1, 4, 8)
    assert MCSpatialDropout3D(0.5)(np.ones((1, 2, 2, 2, 8), np.float32)).shape == (1, 2, 2, 2, 8)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", True])
def test_bad_rate_is_refused(rate):
    error = TypeError if isinstance(rate, (str, bool)) else ValueError
    with pytest.raises(error, match=r"rate must be a number in \[0, 1\)"):
        MCDropout(rate)


def test_concrete_dropout_learns_its_rate_and_adds_the_regulariser():
    layer = ConcreteDropout(keras.layers.Dense(3), n_train=100, init_rate=0.2)
    out = layer(np.ones((5, 4), np.float32))
    assert out.shape == (5, 3)
    assert float(layer.rate) == pytest.approx(0.2, rel=1e-5)
    assert len(layer.losses) == 1
    p, kernel = 0.2, layer.layer.kernel.numpy()
    expected = (1e-2**2 / 100) * np.sum(kernel**2) / (1 - p) - (2 / 100) * 4 * -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-4)
    assert "rate_logit" in [w.name.split("/")[-1].split(":")[0] for w in layer.trainable_weights]


def test_concrete_dropout_rate_gets_a_gradient():
    layer = ConcreteDropout(keras.layers.Dense(1), n_train=10)
    x = np.ones((8, 4), np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2) + tf.add_n(layer.losses)
    grad = tape.gradient(loss, layer.rate_logit)
    assert grad is not None and np.isfinite(float(grad)) and float(grad) != 0.0


def test_concrete_dropout_bad_arguments():
    with pytest.raises(TypeError, match="layer must be a tf_keras layer"):
        ConcreteDropout("dense", n_train=10)
    with pytest.raises(ValueError, match="n_train must be an integer >= 1"):
        ConcreteDropout(keras.layers.Dense(1), n_train=0)
    with pytest.raises(ValueError, match="init_rate must be in"):
        ConcreteDropout(keras.layers.Dense(1), n_train=10, init_rate=0.0)
    with pytest.raises(TypeError, match="needs a layer with a kernel"):
        ConcreteDropout(keras.layers.Activation("relu"), n_train=10)(np.ones((1, 2), np.float32))


def _model_with_custom_layers():
    return keras.Sequential(
        [
            keras.layers.Conv2D(4, 3, input_shape=(8, 8, 1)),
            MCSpatialDropout2D(0.2),
            keras.layers.Flatten(),
            ConcreteDropout(keras.layers.Dense(8, activation="relu"), n_train=50, init_rate=0.3),
            MCDropout(0.25, name="mc"),
            keras.layers.Dense(1),
        ]
    )


def test_save_and_load_round_trip_keeps_layers_and_weights(tmp_path):
    model = _model_with_custom_layers()
    model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 1)).astype(np.float32)
    model.fit(x, np.zeros((16, 1)), epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.get_layer("mc").rate == 0.25
    for saved, restored in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(saved, restored)
    # Still stochastic after loading; and the same seed gives the same output in both models.
    assert not np.array_equal(loaded(x).numpy(), loaded(x).numpy())
    set_seed(3)
    a = model(x).numpy()
    set_seed(3)
    b = loaded(x).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_concrete_dropout_trains_without_nans_and_keeps_a_valid_rate():
    from bdl_tf.datasets import toy_regression
    from bdl_tf.heads import NormalHead, negative_log_likelihood

    data = toy_regression(n_train=50, seed=0)
    model = keras.Sequential(
        [
            keras.layers.Dense(32, "relu", input_shape=(1,)),
            ConcreteDropout(keras.layers.Dense(32, "relu"), n_train=50),
            ConcreteDropout(keras.layers.Dense(2), n_train=50),
            NormalHead(1),
        ]
    )
    model.compile(keras.optimizers.Adam(3e-3), negative_log_likelihood)
    history = model.fit(data.x_train, data.y_train, epochs=30, batch_size=64, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))  # the RelaxedBernoulli sampler gave NaN by epoch 7
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(0.0 < float(layer.rate) < 1.0 for layer in model.layers if isinstance(layer, ConcreteDropout))
