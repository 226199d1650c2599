"""Bad input over the whole public API: each row is (public name, call, expected error, words in the message).

Every public function and class of ``bdl_tf`` either does the right thing or raises a ValueError /
TypeError / FileNotFoundError (or the library's own subclass) whose message names the argument;
never a silent broadcast, a NaN from an empty input, or a raw TensorFlow error. The last test
checks that the table covers every public name.
"""
import inspect
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import bdl_tf
import bdl_tf.plots
from bdl_tf import datasets, inference, metrics, uncertainty, vae
from bdl_tf.uncertainty import RegressionUncertainty

P = np.array([[0.2, 0.8], [0.6, 0.4]])  # class probabilities, N = 2, C = 2
IMG = (4, 4, 1)


@pytest.fixture(scope="module")
def f(tmp_path_factory):
    """Small models and files shared by the rows (built once)."""
    keras.utils.set_random_seed(0)
    tmp = tmp_path_factory.mktemp("bad_input")
    normal = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), bdl_tf.MCDropout(0.5), keras.layers.Dense(2),
                               bdl_tf.NormalHead(1)])
    fixed = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])  # no randomness at inference
    keras_dropout = keras.Sequential([keras.layers.Dropout(0.5, input_shape=(3,)), keras.layers.Dense(1)])
    model = vae.VAE(vae.dense_encoder(IMG, 2, hidden_units=(8,)), vae.dense_decoder(2, IMG, hidden_units=(8,)))
    cvae = vae.CVAE(vae.dense_encoder(IMG, 2, hidden_units=(8,), condition_dim=3),
                    vae.dense_decoder(2, IMG, hidden_units=(8,), condition_dim=3))
    saved = bdl_tf.save_model(fixed, tmp / "saved")
    broken_config = bdl_tf.save_model(fixed, tmp / "broken_config")
    (broken_config / "config.json").write_text('{"format": "bdl_tf.saving/1", "model": ')
    broken_weights = bdl_tf.save_model(fixed, tmp / "broken_weights")
    for weights in broken_weights.glob("weights.*"):
        weights.write_bytes(b"not a checkpoint")
    (tmp / "pickled.npz").write_bytes(b"\x80\x04\x95 pickled data")
    (tmp / "bad.idx").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    (tmp / "mnist_cache").mkdir()
    (tmp / "mnist_cache" / "mnist.npz").write_bytes(b"truncated")
    (tmp / "uci_cache" / "yacht").mkdir(parents=True)
    (tmp / "uci_cache" / "yacht" / "data.txt").write_text("1 2 x\n")
    return SimpleNamespace(normal=normal, fixed=fixed, keras_dropout=keras_dropout, vae=model, cvae=cvae, tmp=tmp,
                           saved=saved, broken_config=broken_config, broken_weights=broken_weights)


def _nll(distribution, y):
    return bdl_tf.negative_log_likelihood(y, distribution)


def _normal(n=4):
    return bdl_tf.NormalHead(1)(np.zeros((n, 2), np.float32))


def _categorical(n=3):
    return bdl_tf.CategoricalHead(3)(np.zeros((n, 3), np.float32))


def _bernoulli():
    return bdl_tf.BernoulliHead(1)(np.zeros((3, 1), np.float32))


def _mcmc(**kwargs):
    args = dict(target_log_prob_fn=lambda w: -tf.reduce_sum(w**2, axis=-1), initial_state=np.zeros((2, 1), np.float32),
                num_results=2, num_burnin_steps=2)
    return inference.run_mcmc(**{**args, **kwargs})


def _ensemble():
    return keras.Sequential([keras.Input((3,)), bdl_tf.EnsembleDense(2, 3), bdl_tf.NormalHead(1)])


def _uncertainty():
    return RegressionUncertainty(np.zeros((3, 1)), np.ones((3, 1)), np.ones((3, 1)))


# (public name, call on the fixtures, error type, regex the message must match)
CASES = [
    # -- heads and the loss: targets must have the head's shape and support ---------------------
    ("ProgressBar", lambda f: bdl_tf.ProgressBar(3), TypeError, "description must be a string"),
    ("fit_progress", lambda f: bdl_tf.fit_progress(["fit"]), TypeError, "description must be a string"),
    ("NormalHead", lambda f: bdl_tf.NormalHead("1"), TypeError, "event_size must be an integer"),
    ("NormalHead", lambda f: bdl_tf.NormalHead(1, min_scale=-1.0), ValueError, "min_scale"),
    ("CategoricalHead", lambda f: bdl_tf.CategoricalHead(0), ValueError, "event_size must be an integer >= 1"),
    ("BernoulliHead", lambda f: bdl_tf.BernoulliHead(2)(np.zeros((2, 3), np.float32)), ValueError, "needs 2 inputs"),
    ("HeteroscedasticCategoricalHead", lambda f: bdl_tf.HeteroscedasticCategoricalHead(3)(np.zeros((2, 3), np.float32)),
     ValueError, "needs 6 inputs"),
    ("HeteroscedasticCategoricalHead", lambda f: bdl_tf.HeteroscedasticCategoricalHead(3, num_samples=0), ValueError, "num_samples"),
    ("HeteroscedasticCategoricalHead", lambda f: bdl_tf.HeteroscedasticCategoricalHead(3).logit_scales(np.zeros((2, 3), np.float32)),
     ValueError, "needs 6 inputs"),
    ("EnsembleDense", lambda f: bdl_tf.EnsembleDense(4, members=0), ValueError, "members"),
    ("EnsembleDense", lambda f: bdl_tf.EnsembleDense(4, 3)(np.ones((2, 5, 1), np.float32)), ValueError, "got inputs with 5 members"),
    ("ensemble_negative_log_likelihood", lambda f: bdl_tf.ensemble_negative_log_likelihood(np.zeros(3), _normal()), ValueError,
     "no member axis"),
    ("ensemble_predict", lambda f: bdl_tf.ensemble_predict(f.fixed, np.ones((2, 3), np.float32)), ValueError, "no EnsembleDense"),
    ("ensemble_predict", lambda f: bdl_tf.ensemble_predict(_ensemble(), np.ones((0, 3), np.float32)), ValueError, "x must not be empty"),
    ("ensemble_predict", lambda f: bdl_tf.ensemble_predict(_ensemble(), np.full((2, 3), np.nan)), ValueError, "x contains NaN"),
    ("negative_log_likelihood", lambda f: _nll(_normal(), np.zeros(4)), ValueError, r"y_true has shape \(4,\).*\(4, 1\)"),
    ("negative_log_likelihood", lambda f: _nll(_categorical(), np.array([0, 1, 2])), ValueError, "one-hot encode"),
    ("negative_log_likelihood", lambda f: _nll(_categorical(), np.array([[0, 2, 0]] * 3)), ValueError, "one-hot rows"),
    ("negative_log_likelihood", lambda f: _nll(_bernoulli(), np.array([[2.0], [0.0], [-1.0]])), ValueError, "0s and 1s"),
    ("negative_log_likelihood", lambda f: bdl_tf.negative_log_likelihood(np.zeros(3), np.zeros(3)), TypeError, "distribution"),
    # -- layers and regularisation ---------------------------------------------------------------
    ("MCDropout", lambda f: bdl_tf.MCDropout(1.0), ValueError, r"rate must be a number in \[0, 1\)"),
    ("MCDropout", lambda f: bdl_tf.MCDropout("0.1"), TypeError, "rate"),
    ("MCSpatialDropout1D", lambda f: bdl_tf.MCSpatialDropout1D(-0.1), ValueError, "rate"),
    ("MCSpatialDropout2D", lambda f: bdl_tf.MCSpatialDropout2D(None), TypeError, "rate"),
    ("MCSpatialDropout3D", lambda f: bdl_tf.MCSpatialDropout3D(True), TypeError, "rate"),
    ("ConcreteDropout", lambda f: bdl_tf.ConcreteDropout("dense", 10), TypeError, "layer must be a tf_keras layer"),
    ("ConcreteDropout", lambda f: bdl_tf.ConcreteDropout(keras.layers.Dense(1), 0), ValueError, "n_train"),
    ("dropout_weight_decay", lambda f: bdl_tf.dropout_weight_decay(0.0, 0.1, 10, 1.0), ValueError, "length_scale"),
    ("model_precision", lambda f: bdl_tf.model_precision(1.0, 0.1, 10, float("nan")), ValueError, "weight_decay"),
    ("kl_weight", lambda f: bdl_tf.kl_weight(2.5), TypeError, "n_train"),
    ("set_seed", lambda f: bdl_tf.set_seed(-1), ValueError, "seed"),
    ("set_seed", lambda f: bdl_tf.set_seed("0"), TypeError, "seed"),
    ("by_mode", lambda f: bdl_tf.by_mode(1), TypeError, "full"),
    # -- sampling --------------------------------------------------------------------------------
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.normal, np.ones((2, 3)), 0), ValueError, "num_samples"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.normal, np.ones((0, 3)), 3), ValueError, "at least one example"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.normal, np.ones((2, 3)), 3, training="False"), TypeError, "training"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.normal, [[1.0, np.nan, 0.0]], 3), ValueError, "x contains NaN"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.normal, np.ones((2, 4)), 3), ValueError, "model expects inputs"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.fixed, np.ones((2, 3)), 3, identical_passes="raise"), ValueError,
     "identical.*MCDropout"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.keras_dropout, np.ones((2, 3)), 3, identical_passes="raise"),
     ValueError, "identical"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.fixed, np.ones((2, 3)), 3, identical_passes="never"), ValueError,
     "identical_passes must be one of"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.normal, np.ones((2, 3)), 3, max_rows=0), ValueError, "max_rows"),
    ("MCPrediction", lambda f: bdl_tf.MCPrediction(np.zeros((2, 3, 1)), kind="regression").classification(),
     TypeError, "classification"),
    ("MCSummary", lambda f: bdl_tf.MCSummary("tensor", 2, (np.zeros(3), np.zeros(3))).regression(), ValueError,
     "noise_variance"),
    ("MCSummary", lambda f: bdl_tf.mc_predict(f.normal, np.ones((2, 3)), 3, keep_samples=False, y=np.ones((2, 2))),
     ValueError, r"y_true has shape \(1, 2\)"),
    ("mc_predict", lambda f: bdl_tf.mc_predict(f.normal, np.ones((2, 3)), 3, keep_samples=1), TypeError, "keep_samples"),
    # -- uncertainty -------------------------------------------------------------------------------
    ("predictive_probs", lambda f: uncertainty.predictive_probs(np.zeros((0, 2, 3))), ValueError, "must not be empty"),
    ("predictive_entropy", lambda f: uncertainty.predictive_entropy(np.full((2, 2, 2), 0.7)), ValueError, "summing to 1"),
    ("expected_entropy", lambda f: uncertainty.expected_entropy([0.5, 0.5]), ValueError, "at least 2 dimension"),
    ("mutual_information", lambda f: uncertainty.mutual_information("probs"), TypeError, "prob_samples"),
    ("classification_uncertainty", lambda f: uncertainty.classification_uncertainty(np.full((2, 1, 2), np.nan)),
     ValueError, "NaN"),
    ("entropy", lambda f: uncertainty.entropy([]), ValueError, "probs must not be empty"),
    ("regression_uncertainty", lambda f: uncertainty.regression_uncertainty(np.zeros((2, 3))), ValueError, "exactly one"),
    ("regression_uncertainty", lambda f: uncertainty.regression_uncertainty(np.zeros((2, 3)), np.ones((2, 4))),
     ValueError, "same shape"),
    ("RegressionUncertainty", lambda f: bdl_tf.plots.plot_regression_uncertainty(np.zeros(2), _uncertainty()),
     ValueError, "one 1-D input per prediction"),
    ("ClassificationUncertainty", lambda f: bdl_tf.plots.plot_regression_uncertainty(np.zeros(3), P), TypeError,
     "RegressionUncertainty"),
    # -- metrics ---------------------------------------------------------------------------------
    ("rmse", lambda f: metrics.rmse([], []), ValueError, "y_true must not be empty"),
    ("rmse", lambda f: metrics.rmse(np.zeros(3), np.zeros((3, 1))), ValueError, "shape"),
    ("gaussian_nll", lambda f: metrics.gaussian_nll([], [], []), ValueError, "must not be empty"),
    ("gaussian_nll", lambda f: metrics.gaussian_nll([0.0], [0.0], [-1.0]), ValueError, "variance"),
    ("mc_gaussian_nll", lambda f: metrics.mc_gaussian_nll(np.zeros(3), np.zeros((5, 4))), ValueError, "mean_samples"),
    ("categorical_nll", lambda f: metrics.categorical_nll([0, 1.5], P), ValueError, "integer class indices"),
    ("accuracy", lambda f: metrics.accuracy([0, 2], P), ValueError, r"classes in \[0, 2\)"),
    ("brier_score", lambda f: metrics.brier_score([0], P), ValueError, r"labels must have shape \(2\)"),
    ("calibration_bins", lambda f: metrics.calibration_bins([0, 1], P, n_bins=0), ValueError, "n_bins"),
    ("expected_calibration_error", lambda f: metrics.expected_calibration_error([0, 1], [[2.0, -1.0], [0.5, 0.5]]),
     ValueError, "probs must be probabilities"),
    ("ood_auroc", lambda f: metrics.ood_auroc([], [1.0]), ValueError, "scores_in must not be empty"),
    ("frechet_distance", lambda f: metrics.frechet_distance(np.zeros((1, 2)), np.zeros((5, 2))), ValueError, "n >= 2"),
    ("CalibrationBins", lambda f: bdl_tf.plots.plot_reliability_diagram("bins"), TypeError, "bins"),
    # -- inference -------------------------------------------------------------------------------
    ("beta_binomial_posterior", lambda f: inference.beta_binomial_posterior(5, 3), ValueError, "successes must be <= trials"),
    ("beta_binomial_map", lambda f: inference.beta_binomial_map(1, 2, prior_a=0.0), ValueError, "prior_a"),
    ("beta_binomial_predictive", lambda f: inference.beta_binomial_predictive(1, 2, 0), ValueError, "new_trials"),
    ("binomial_mle", lambda f: inference.binomial_mle(1, 0), ValueError, "trials"),
    ("binomial_mle", lambda f: inference.binomial_mle(1.5, 3), TypeError, "successes"),
    ("bayesian_linear_regression", lambda f: inference.bayesian_linear_regression(np.zeros((3, 2)), np.zeros(4), 1, 1),
     ValueError, "targets must have shape"),
    ("linear_regression_log_joint", lambda f: inference.linear_regression_log_joint(np.zeros((0, 2)), np.zeros(0), 1, 1),
     ValueError, "must not be empty"),
    ("LinearRegressionPosterior", lambda f: inference.bayesian_linear_regression(np.zeros((3, 2)), np.zeros(3), -1, 1),
     ValueError, "prior_precision"),
    ("grid_posterior", lambda f: inference.grid_posterior([0.0, 1.0], [0.0, np.nan]), ValueError, "log_joint contains NaN"),
    ("run_mcmc", lambda f: _mcmc(initial_state=np.full((2, 1), np.nan, np.float32)), ValueError, "initial_state contains NaN"),
    ("run_mcmc", lambda f: _mcmc(target_log_prob_fn=None), TypeError, "target_log_prob_fn must be callable"),
    ("run_mcmc", lambda f: _mcmc(target_log_prob_fn=lambda w: tf.math.log(w[:, 0])), ValueError,
     "not finite at initial_state"),
    ("run_mcmc", lambda f: _mcmc(seed=-3), ValueError, "seed must be an integer"),
    ("flat_network", lambda f: inference.flat_network(f.normal), ValueError, "Dense layers with biases only"),
    ("flat_network", lambda f: inference.flat_network(keras.Sequential([keras.layers.Dense(2)])), ValueError, "built network"),
    ("FlatNetwork", lambda f: inference.flat_network(f.fixed)(np.zeros((2, 5)), np.zeros((3, 3))), ValueError,
     r"theta must have shape \(chains, 4\)"),
    ("FlatNetwork", lambda f: inference.flat_network(f.fixed)(np.zeros((2, 4)), np.zeros((3, 2))), ValueError,
     r"x must have shape \(n, 3\)"),
    ("FlatNetwork", lambda f: inference.flat_network(f.fixed).weights(np.zeros(5)), ValueError, r"theta must have shape \(4\)"),
    ("function_r_hat", lambda f: inference.function_r_hat(inference.flat_network(f.fixed), np.zeros((10, 1, 4)), np.zeros((3, 3))),
     ValueError, "at least 2 draws and 2 chains"),
    ("run_mcmc", lambda f: _mcmc(seed=1.5), TypeError, "seed"),
    ("run_mcmc", lambda f: _mcmc(target_accept_prob=1.0), ValueError, "target_accept_prob"),
    ("run_mcmc", lambda f: _mcmc(kernel="mala"), ValueError, "kernel must be one of"),
    ("MCMCResult", lambda f: _mcmc(initial_state=np.zeros((1, 1), np.float32)), ValueError, "chain dimension"),
    ("make_posterior_fn", lambda f: inference.make_posterior_fn(initial_scale=1e-6, min_scale=1e-5), ValueError,
     "initial_scale"),
    ("make_prior_fn", lambda f: inference.make_prior_fn(trainable="yes"), TypeError, "trainable"),
    ("dense_variational", lambda f: inference.dense_variational(0, 10), ValueError, "units"),
    ("dense_flipout", lambda f: inference.dense_flipout(3, -1), ValueError, "n_train"),
    ("weight_posterior", lambda f: inference.weight_posterior(keras.layers.Dense(2)), TypeError, "layer"),
    # -- datasets --------------------------------------------------------------------------------
    ("toy_regression", lambda f: datasets.toy_regression(n_train=0), ValueError, "n_train"),
    ("toy_regression", lambda f: datasets.toy_regression(seed=-1), ValueError, "seed"),
    ("ToyRegression", lambda f: datasets.toy_regression(margin=-1.0), ValueError, "margin"),
    ("toy_function", lambda f: datasets.toy_function("x"), TypeError, "x must be an array"),
    ("toy_noise_std", lambda f: datasets.toy_noise_std([np.nan]), ValueError, "NaN"),
    ("two_moons", lambda f: datasets.two_moons(noise=0.0), ValueError, "noise"),
    ("two_moons", lambda f: datasets.two_moons(seed=2.5), TypeError, "seed"),
    ("digits", lambda f: datasets.digits(test_fraction=1.0), ValueError, "test_fraction"),
    ("Split", lambda f: datasets.digits(images="yes"), TypeError, "images"),
    ("ood_split", lambda f: datasets.ood_split(np.zeros((3, 2)), np.array([0, 1, 2]), []), ValueError, "held_out_classes"),
    ("OODSplit", lambda f: datasets.ood_split(np.zeros((2, 2)), np.array([0, 1, 2]), [1]), ValueError, "x must have 3"),
    ("binarize_static", lambda f: datasets.binarize_static(np.full((2, 2), 2.0)), ValueError, r"intensities in \[0, 1\]"),
    ("binarize_static", lambda f: datasets.binarize_static(np.zeros((0, 2))), ValueError, "x must not be empty"),
    ("binarize_static", lambda f: datasets.binarize_static(np.zeros((2, 2)), seed="1"), TypeError, "seed"),
    ("binarize_dynamic", lambda f: datasets.binarize_dynamic(np.zeros((2, 2)), seed=-5), ValueError, "seed"),
    ("binarize_dynamic", lambda f: datasets.binarize_dynamic(np.zeros((2, 2)), batch_size=0), ValueError, "batch_size"),
    ("load_offline_digits", lambda f: datasets.load_offline_digits("kaggle"), ValueError, "source must be one of"),
    ("ImageData", lambda f: datasets.load_offline_digits(test_fraction=0), ValueError, "test_fraction"),
    ("load_mnist", lambda f: datasets.load_mnist(cache_dir=3), TypeError, "cache_dir"),
    ("load_mnist", lambda f: datasets.load_mnist(cache_dir=f.tmp / "mnist_cache", offline_fallback=False),
     bdl_tf.CorruptFileError, r"mnist\.npz is not a readable mnist\.npz file.*delete the file"),
    ("load_fashion_mnist", lambda f: datasets.load_fashion_mnist(cache_dir=f.tmp, fetch="http://x"), TypeError, "fetch"),
    ("read_mnist_npz", lambda f: datasets.read_mnist_npz(f.tmp / "pickled.npz"), bdl_tf.CorruptFileError,
     r"pickled\.npz is not a readable.*delete the file"),
    ("read_idx", lambda f: datasets.read_idx(f.tmp / "bad.idx"), bdl_tf.CorruptFileError, r"bad\.idx .*idx file"),
    ("read_idx", lambda f: datasets.read_idx(f.tmp / "missing.idx"), FileNotFoundError, "missing"),
    ("load_uci_folder", lambda f: datasets.load_uci_folder(42), TypeError, "path"),
    ("load_uci_folder", lambda f: datasets.load_uci_folder(f.tmp / "nowhere"), FileNotFoundError, "nowhere"),
    ("load_uci", lambda f: datasets.load_uci("iris"), ValueError, "name must be one of"),
    ("load_uci", lambda f: datasets.load_uci("yacht", cache_dir=f.tmp / "uci_cache"), bdl_tf.CorruptFileError,
     "cached UCI data set .*yacht is damaged.*delete the folder"),
    ("UCIDataset", lambda f: datasets.load_uci("yacht", cache_dir=f.tmp / "uci_cache", fetch=5), TypeError, "fetch"),
    ("UCISplit", lambda f: datasets.load_uci(None), ValueError, "name"),
    ("default_cache_dir", lambda f: datasets.default_cache_dir(""), ValueError, "name"),
    # -- saving ----------------------------------------------------------------------------------
    ("save_model", lambda f: bdl_tf.save_model(f.fixed, 3), TypeError, "path must be a str"),
    ("save_model", lambda f: bdl_tf.save_model(f.fixed, f.saved), FileExistsError, "overwrite=True"),
    ("save_model", lambda f: bdl_tf.save_model(f.fixed, f.tmp / "x", overwrite="yes"), TypeError, "overwrite"),
    ("load_model", lambda f: bdl_tf.load_model(f.tmp / "nowhere"), FileNotFoundError, "config.json"),
    ("load_model", lambda f: bdl_tf.load_model(f.broken_config), bdl_tf.CorruptFileError,
     r"broken_config/config\.json is not a readable.*save the model again"),
    ("load_model", lambda f: bdl_tf.load_model(f.broken_weights), bdl_tf.CorruptFileError,
     "broken_weights/weights is not a readable weights checkpoint.*save the model again"),
    ("load_model", lambda f: bdl_tf.load_model(f.saved, safe_mode="no"), TypeError, "safe_mode"),
    ("CorruptFileError", lambda f: datasets.read_idx(f.tmp / "pickled.npz"), ValueError, "idx file"),
    # -- VAEs ------------------------------------------------------------------------------------
    ("dense_encoder", lambda f: vae.dense_encoder(input_shape="28", latent_dim=2), TypeError, "input_shape"),
    ("dense_encoder", lambda f: vae.dense_encoder((28,), 2, posterior="gaussian"), ValueError, "posterior must be one of"),
    ("dense_decoder", lambda f: vae.dense_decoder(2, (4, 0)), ValueError, r"output_shape\[1\]"),
    ("conv_encoder", lambda f: vae.conv_encoder((28, 28), 2), ValueError, "input_shape must have 3"),
    ("conv_decoder", lambda f: vae.conv_decoder(2, (8, 8, 1), filters=()), ValueError, "filters"),
    ("LearnedScale", lambda f: vae.LearnedScale(min_scale=1.0, initial_scale=0.5), ValueError, "initial_scale"),
    ("POSTERIORS", lambda f: vae.dense_encoder((4,), 2, posterior=vae.POSTERIORS), ValueError, "posterior"),
    ("LIKELIHOODS", lambda f: vae.dense_decoder(2, (4,), likelihood="poisson"), ValueError, "likelihood must be one of"),
    ("Autoencoder", lambda f: vae.Autoencoder(f.vae.encoder, "decoder"), TypeError, "decoder"),
    ("VAE", lambda f: vae.VAE(f.vae.encoder, f.vae.decoder, beta=-1.0), ValueError, "beta"),
    ("VAE", lambda f: f.vae.elbo_terms(np.zeros((2, *IMG)), num_samples=0), ValueError, "num_samples"),
    ("VAE", lambda f: f.vae.elbo_terms(np.full((2, *IMG), 2.0)), ValueError, r"pixel values in \[0, 1\]"),
    ("VAE", lambda f: f.vae.sample(2, seed=-1), ValueError, "seed"),
    ("VAE", lambda f: f.vae.embed(np.zeros((0, *IMG))), ValueError, "x must not be empty"),
    ("VAE", lambda f: f.vae.encode(np.zeros((2, 5, 5, 1))), ValueError, "x must have shape"),
    ("VAE", lambda f: f.vae.interpolate(np.zeros(IMG), np.zeros(IMG), steps=1), ValueError, "steps"),
    ("VAE", lambda f: f.vae.latent_grid(dims=(0, 0)), ValueError, "dims"),
    ("CVAE", lambda f: f.cvae.sample(2, labels=1.5), ValueError, "integer class"),
    ("CVAE", lambda f: f.cvae.sample(2, labels=3), ValueError, r"classes in \[0, 3\)"),
    ("CVAE", lambda f: f.cvae.sample(2), ValueError, "labels are required"),
    ("CVAE", lambda f: f.cvae.embed(np.zeros((2, *IMG)), labels=np.array([[0.5, 0.5, 0.0]] * 2)), ValueError, "one-hot"),
    ("elbo", lambda f: vae.elbo(f.vae, np.zeros((0, *IMG))), ValueError, "x must"),
    ("elbo", lambda f: vae.elbo(f.vae, np.zeros((2, *IMG)), seed="a"), TypeError, "seed"),
    ("elbo", lambda f: vae.elbo(f.vae, np.full((2, *IMG), -1.0)), ValueError, r"pixel values in \[0, 1\]"),
    ("importance_weighted_bound", lambda f: vae.importance_weighted_bound(f.vae, np.zeros((2, *IMG)), num_samples=0),
     ValueError, "num_samples"),
    ("importance_weighted_bound", lambda f: vae.importance_weighted_bound(f.fixed, np.zeros((2, *IMG))), TypeError,
     "model must be a bdl_tf.vae.VAE"),
    ("kl_divergence", lambda f: vae.kl_divergence(f.vae.prior(), tf.constant(1.0)), TypeError, "p"),
    ("posterior_grid", lambda f: vae.posterior_grid(f.vae, np.zeros((2, *IMG)), points=1), ValueError, "points"),
    ("GridPosterior", lambda f: vae.posterior_grid(f.cvae, np.zeros((2, *IMG))), TypeError, "unconditional"),
    # -- plots -----------------------------------------------------------------------------------
    ("plot_image_grid", lambda f: bdl_tf.plots.plot_image_grid(np.zeros((0, 4, 4))), ValueError, "images"),
    ("plot_image_grid", lambda f: bdl_tf.plots.plot_image_grid("images"), TypeError, "images"),
    ("plot_latent_manifold", lambda f: bdl_tf.plots.plot_latent_manifold(np.zeros((2, 4, 4))), ValueError, "images"),
    ("plot_latent_scatter", lambda f: bdl_tf.plots.plot_latent_scatter(np.zeros((3, 2)), labels=[0, 1]), ValueError,
     "labels must have shape"),
    ("plot_reconstructions", lambda f: bdl_tf.plots.plot_reconstructions(np.zeros((2, 4, 4)), np.zeros((3, 4, 4))),
     ValueError, "reconstructions"),
    ("plot_regression_uncertainty", lambda f: bdl_tf.plots.plot_regression_uncertainty(np.zeros(3), _uncertainty(),
                                                                                       n_std=0), ValueError, "n_std"),
    ("plot_reliability_diagram", lambda f: bdl_tf.plots.plot_reliability_diagram(None), TypeError, "bins"),
    ("plot_samples", lambda f: bdl_tf.plots.plot_samples(np.zeros((2, 4, 4)), ncols=0), ValueError, "ncols"),
    ("plot_traversal", lambda f: bdl_tf.plots.plot_traversal(np.zeros((2, 3, 4, 4)), values=[1.0]), ValueError, "values"),
    ("digit_judge", lambda f: vae.digit_judge(np.full((4, 4, 4, 1), 2.0), [0, 1, 0, 1]), ValueError, "x_train must hold grey levels"),
    ("digit_judge", lambda f: vae.digit_judge(np.zeros((4, 4, 4, 1)), [0, 1, 0]), ValueError, "y_train must hold one label per training image"),
    ("digit_judge", lambda f: vae.digit_judge(np.zeros((4, 4, 4)), [0, 1, 0, 1], x_test=np.zeros((2, 4, 4))), ValueError, "together"),
    ("DigitJudge", lambda f: vae.DigitJudge(None, None, (4, 4, 1), 2, 0).recognised(np.zeros((2, 5, 5, 1)), 0), ValueError,
     r"images must be images of shape \(4, 4, 1\)"),
    ("parameter_panels", lambda f: bdl_tf.plots.parameter_panels(print, {"rate": 0.1}), TypeError, "settings"),
    ("parameter_slider", lambda f: bdl_tf.plots.parameter_slider(print, {"rate": 0.1}), ValueError, r"parameters\['rate'\]"),
    ("parameter_slider", lambda f: bdl_tf.plots.parameter_slider(None, {"rate": [0.1]}), TypeError, "draw"),
]


@pytest.mark.parametrize("name, call, error, words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_raises_a_clear_error(f, name, call, error, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(error, match=words):
            call(f)


def test_keras_dropout_and_deterministic_models_warn_by_default(f):
    with pytest.warns(bdl_tf.IdenticalPassesWarning, match="identical"):
        bdl_tf.mc_predict(f.keras_dropout, np.ones((2, 3), np.float32), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prediction = bdl_tf.mc_predict(f.fixed, np.ones((2, 3), np.float32), 3, identical_passes="allow")
    assert prediction.num_samples == 3


def test_the_loss_inside_keras_is_right_or_refused():
    # Keras itself gives (N,) targets the (N, 1) shape of a rank-2 prediction: the loss is the right one.
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), bdl_tf.NormalHead(1)])
    model.compile("adam", bdl_tf.negative_log_likelihood)
    x, y = np.random.default_rng(0).normal(size=(4, 3)), np.arange(4.0)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), model.evaluate(x, y[:, None], verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"y_true has shape \(None, 2\)"):
        model.fit(x, np.ones((4, 2)), verbose=0)
    bernoulli = keras.Sequential([keras.layers.Dense(1, input_shape=(3,)), bdl_tf.BernoulliHead(1)])
    bernoulli.compile("adam", bdl_tf.negative_log_likelihood)
    with pytest.raises(tf.errors.InvalidArgumentError, match="0s and 1s"):
        bernoulli.fit(np.ones((4, 3)), np.full((4, 1), 2.0), verbose=0)


# Public names that take no argument a caller could get wrong (constants, flags, result records).
NOTHING_TO_VALIDATE = {"__version__", "quick_mode", "runtime_summary", "IdenticalPassesWarning"}


def _public_names():
    modules = [bdl_tf, datasets, inference, metrics, uncertainty, vae, bdl_tf.plots]
    return {n for m in modules for n in m.__all__ if not inspect.ismodule(getattr(m, n))}


def test_the_table_covers_every_public_name():
    covered = {case[0] for case in CASES}
    assert _public_names() - covered - NOTHING_TO_VALIDATE == set()
    assert covered - _public_names() == set()
