"""Config + weights round trip for tf_keras models holding tfp.layers: AE, VAE, CVAE and MC-dropout-style heads."""
import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf import set_seed
from bdl_tf.saving import FORMAT, load_model, save_model
from bdl_tf.vae import CVAE, VAE, Autoencoder, conv_decoder, conv_encoder, dense_decoder, dense_encoder

tfd, tfpl = tfp.distributions, tfp.layers
SHAPE = (8, 8, 1)
X = (np.random.default_rng(0).random((16, *SHAPE)) < 0.4).astype(np.float32)
LABELS = np.arange(16) % 3


def _same_draws(model, call):
    """Outputs of ``call(model)`` under the same seed: a stochastic model must repeat itself."""
    set_seed(7)
    return np.asarray(tf.convert_to_tensor(call(model)))


def _round_trip(model, tmp_path, **load_kwargs):
    folder = save_model(model, tmp_path / "model")
    assert (folder / "config.json").is_file()
    return load_model(folder, **load_kwargs)


def _trained(model, *fit_args):
    model.compile(keras.optimizers.Adam(1e-2))
    model.fit(*fit_args, epochs=1, batch_size=8, verbose=0)
    return model


@pytest.mark.parametrize(
    "make, call",
    [
        (
            lambda: _trained(VAE(dense_encoder(SHAPE, 2, (8,)), dense_decoder(2, SHAPE, (8,))), X),
            lambda m: m(X),
        ),
        (
            lambda: _trained(VAE(conv_encoder(SHAPE, 2, (4,), posterior="full"),
                                 conv_decoder(2, SHAPE, (4,), likelihood="normal"), beta=2.0), X),
            lambda m: m(X),
        ),
        (
            lambda: _trained(CVAE(dense_encoder(SHAPE, 2, (8,), condition_dim=3),
                                  dense_decoder(2, SHAPE, (8,), condition_dim=3)), X, LABELS),
            lambda m: m([X, LABELS]),
        ),
    ],
    ids=["vae", "conv_full_normal_vae", "cvae"],
)
def test_vaes_come_back_with_the_same_outputs(make, call, tmp_path):
    model = make()
    loaded = _round_trip(model, tmp_path)
    assert type(loaded) is type(model) and loaded.beta == model.beta
    np.testing.assert_array_equal(_same_draws(loaded, call), _same_draws(model, call))
    for original, restored in zip(model.trainable_weights, loaded.trainable_weights):
        np.testing.assert_array_equal(original.numpy(), restored.numpy())
    # The loaded model is a working model: it samples and trains again.
    labels = None if not model.conditional else 1
    np.testing.assert_array_equal(loaded.sample(3, labels=labels, seed=2), model.sample(3, labels=labels, seed=2))
    loaded.compile(keras.optimizers.Adam(1e-3))
    loaded.fit(X, *([] if labels is None else [LABELS]), epochs=1, verbose=0)


def test_autoencoder_round_trip(tmp_path):
    ae = Autoencoder(conv_encoder(SHAPE, 3, (4,), posterior=None), conv_decoder(3, SHAPE, (4,), likelihood=None))
    ae.compile("adam", loss="binary_crossentropy")
    ae.fit(X, X, epochs=1, verbose=0)
    loaded = _round_trip(ae, tmp_path)
    np.testing.assert_array_equal(loaded.reconstruct(X), ae.reconstruct(X))


def _mc_dropout_regressor(head):
    inputs = keras.Input((3,))
    h = keras.layers.Dense(16, activation="relu")(inputs)
    h = keras.layers.Dropout(0.2)(h, training=True)  # always on: Monte-Carlo dropout
    return keras.Model(inputs, head(keras.layers.Dense(2)(h)))


def test_mc_dropout_model_with_named_tfp_head_loads_in_safe_mode(tmp_path):
    set_seed(0)
    model = _mc_dropout_regressor(tfpl.IndependentNormal(1))
    model.compile("adam", loss=lambda y, d: -d.log_prob(y))
    model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    loaded = _round_trip(model, tmp_path)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(_same_draws(loaded, lambda m: m(x).mean()), _same_draws(model, lambda m: m(x).mean()))
    assert isinstance(loaded.layers[-1], tfpl.IndependentNormal)


def test_pickled_distribution_lambda_needs_trust(tmp_path):
    head = tfpl.DistributionLambda(lambda t: tfd.Normal(loc=t[..., :1], scale=1e-3 + tf.math.softplus(t[..., 1:])))
    model = _mc_dropout_regressor(head)
    folder = save_model(model, tmp_path / "lambda")
    with pytest.raises(ValueError, match="pickled Python code.*safe_mode=False"):
        load_model(folder)
    loaded = load_model(folder, safe_mode=False)
    x = np.ones((4, 3), np.float32)
    np.testing.assert_array_equal(_same_draws(loaded, lambda m: m(x).stddev()), _same_draws(model, lambda m: m(x).stddev()))


def test_core_library_heads_round_trip(tmp_path):
    from bdl_tf.heads import NormalHead

    model = _mc_dropout_regressor(NormalHead(1))
    loaded = _round_trip(model, tmp_path)
    x = np.ones((4, 3), np.float32)
    np.testing.assert_array_equal(_same_draws(loaded, lambda m: m(x).mean()), _same_draws(model, lambda m: m(x).mean()))


def test_saving_errors(tmp_path):
    model = VAE(dense_encoder(SHAPE, 2, (4,)), dense_decoder(2, SHAPE, (4,)))
    folder = save_model(model, tmp_path / "m")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_model(model, folder)
    assert save_model(model, folder, overwrite=True) == folder
    with pytest.raises(TypeError, match="path"):
        save_model(model, 3)
    with pytest.raises(TypeError, match="tf_keras.Model"):
        save_model("model", tmp_path / "x")
    with pytest.raises(ValueError, match="no weights yet"):
        save_model(keras.Sequential([keras.layers.Dense(2)]), tmp_path / "unbuilt")
    with pytest.raises(FileNotFoundError, match="not a folder written by"):
        load_model(tmp_path / "missing")
    with pytest.raises(TypeError, match="custom_objects"):
        load_model(folder, custom_objects=["VAE"])
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == FORMAT and "tensorflow_probability" in config["versions"]
    config["format"] = "other/9"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="expected 'bdl_tf.saving/1'"):
        load_model(folder)
