"""Probes and measurements of the model questions (see :mod:`course.checks.models`).

A probe runs the model an answer returned on held-out inputs and returns arrays; it raises
``ValueError`` with a sentence for the student when the model is not what the question asks for.
A measurement turns the probe's arrays and the held-out targets into the numbers that are graded.
Both are public: students see exactly how their model is used and measured. TensorFlow is imported
inside the functions, so that ``course.checks`` stays light for the formula questions.
"""
from __future__ import annotations

import numpy as np

PROBABILITY_TOLERANCE = 1e-3
"""How far from 1 a row of class probabilities may sum (float32 softmax outputs sum to 1 within 1e-6)."""


def _tf_keras_model(returned, what: str = "the returned object"):
    import tf_keras as keras

    if not isinstance(returned, keras.Model):
        raise ValueError(f"{what} is a {type(returned).__name__}, not a tf_keras model")
    return returned


def _pair(returned, names: tuple[str, str]):
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        raise ValueError(f"got a {type(returned).__name__}, not a pair ({names[0]}, {names[1]})")
    return tuple(_tf_keras_model(model, name) for model, name in zip(returned, names))


def _output_values(output) -> np.ndarray:
    """A model output as an array: a TFP distribution's mean (class or pixel probabilities), else the tensor."""
    import tensorflow_probability as tfp

    if isinstance(output, tfp.distributions.Distribution):
        return np.asarray(output.mean(), dtype=np.float64)
    return np.asarray(output, dtype=np.float64)


def _check_probabilities(probs: np.ndarray, classes: int) -> np.ndarray:
    if probs.ndim != 2 or probs.shape[1] != classes:
        raise ValueError(f"its output has shape {probs.shape}; expected (N, {classes}) class probabilities")
    sums = probs.sum(axis=1)
    if np.any(probs < 0) or np.any(np.abs(sums - 1.0) > PROBABILITY_TOLERANCE):
        raise ValueError(
            f"its outputs are not probabilities (rows sum to {sums.min():.3g}..{sums.max():.3g}): "
            "end with a softmax, or return a bdl_tf.CategoricalHead"
        )
    return probs


# --- regression with an uncertainty split --------------------------------------------------------

def regression_split(returned, inputs) -> tuple:
    """``mc_predict`` on the probe inputs: (predictive mean, total variance, epistemic variance) per input."""
    from bdl_tf import mc_predict

    model = _tf_keras_model(returned)
    prediction = mc_predict(model, inputs["x"], inputs["num_samples"], identical_passes="allow")
    if prediction.kind != "regression":
        raise ValueError("its output is not a Normal distribution: end the model with bdl_tf.NormalHead(1)")
    split = prediction.regression()
    return split.mean.ravel(), split.total.ravel(), split.epistemic.ravel()


def regression_measures(parts, targets) -> dict:
    """Test NLL of N(y; mean, total variance), and the mean epistemic variance beyond the data
    (|x| in [5, 7], both sides) over its mean at the held-out inputs; each side's ratio is reported."""
    from bdl_tf.metrics import gaussian_nll, rmse

    mean, total, epistemic = parts
    n, side = targets["n_test"], targets["n_side"]
    if mean.shape != (n + 2 * side,):
        raise ValueError(f"the predictive mean has shape {mean.shape}; expected ({n + 2 * side},), one per input")
    y = targets["y"]
    on_data = float(np.mean(epistemic[:n]))

    def ratio(beyond: float) -> float:
        return beyond / on_data if on_data > 0 else (1.0 if beyond <= 0 else float("inf"))

    nll = gaussian_nll(y, mean[:n], total[:n]) if np.all(total[:n] > 0) else float("inf")
    return {"nll": nll, "epistemic_ratio": ratio(float(np.mean(epistemic[n:]))), "rmse": rmse(y, mean[:n]),
            "left_ratio": ratio(float(np.mean(epistemic[n:n + side]))),
            "right_ratio": ratio(float(np.mean(epistemic[n + side:])))}


# --- classification -------------------------------------------------------------------------------

def class_probabilities(returned, inputs) -> tuple:
    """One deterministic pass: class probabilities of the held-out inputs (seen and unseen classes)."""
    model = _tf_keras_model(returned)
    probs = _output_values(model(inputs["x"], training=False))
    return (_check_probabilities(probs, inputs["classes"]),)


def mc_classification(returned, inputs) -> tuple:
    """``mc_predict``: predictive probabilities and mutual information of the held-out inputs."""
    from bdl_tf import mc_predict

    model = _tf_keras_model(returned)
    prediction = mc_predict(model, inputs["x"], inputs["num_samples"], identical_passes="allow")
    if prediction.kind == "regression":
        raise ValueError("its output is a regression head; end the model with a softmax or bdl_tf.CategoricalHead")
    _check_probabilities(prediction.mean, inputs["classes"])
    split = prediction.classification()
    return split.probs, split.mutual_information


def seen_class_measures(parts, targets) -> dict:
    """Accuracy and NLL on the held-out inputs of the seen classes; confidence on the unseen ones."""
    from bdl_tf.metrics import accuracy, categorical_nll

    probs = parts[0]
    n, labels = targets["n_in"], targets["labels"]
    return {
        "accuracy": accuracy(labels, probs[:n]),
        "nll": categorical_nll(labels, probs[:n]),
        "unseen_confidence": float(np.mean(probs[n:].max(axis=1))),
    }


def ood_measures(parts, targets) -> dict:
    """Accuracy and ECE on the seen classes, AUROC of the mutual information for unseen vs seen."""
    from bdl_tf.metrics import accuracy, expected_calibration_error, ood_auroc

    probs, information = parts
    n, labels = targets["n_in"], targets["labels"]
    return {
        "accuracy": accuracy(labels, probs[:n]),
        "ece": expected_calibration_error(labels, probs[:n]),
        "auroc": ood_auroc(information[:n], information[n:]),
    }


# --- autoencoders -------------------------------------------------------------------------------

def reconstructions(returned, inputs) -> tuple:
    """Encode the held-out images, check the code size, decode the codes in a shuffled order (and
    put them back): the reconstructions, flattened to (N, pixels)."""
    encoder, decoder = _pair(returned, ("encoder", "decoder"))
    x, code_size = inputs["x"], inputs["code_size"]
    codes = _output_values(encoder(x, training=False))
    if codes.shape != (len(x), code_size):
        raise ValueError(f"the encoder's codes have shape {codes.shape}; expected (N, code_size) = ({len(x)}, {code_size})")
    order = np.random.default_rng(inputs["seed"]).permutation(len(x))
    decoded = _output_values(decoder(codes[order].astype(np.float32), training=False)).reshape(len(x), -1)
    if decoded.shape[1] != int(np.prod(x.shape[1:])):
        raise ValueError(f"the decoder's output has {decoded.shape[1]} values per image; expected {int(np.prod(x.shape[1:]))}")
    restored = np.empty_like(decoded)
    restored[order] = decoded
    return (restored,)


def reconstruction_measures(parts, targets) -> dict:
    """Mean squared error per pixel on the held-out images, and PCA's with the same code size (reported)."""
    (recon,) = parts
    x = targets["x"]
    if recon.shape != x.shape:
        raise ValueError(f"the reconstructions have shape {recon.shape}; expected {x.shape}")
    return {"mse": float(np.mean((recon - x) ** 2)), "pca_mse": targets["pca_mse"]}


def _posterior_moments(encoder, x, latent_dim: int):
    import tensorflow_probability as tfp

    q = encoder(x, training=False)
    if not isinstance(q, tfp.distributions.Distribution):
        raise ValueError("the encoder must output a TFP distribution over z (a DistributionLambda layer)")
    mean, std = np.asarray(q.mean(), np.float64), np.asarray(q.stddev(), np.float64)
    if mean.shape != (len(x), latent_dim) or std.shape != mean.shape:
        raise ValueError(f"the encoder's q(z|x) has mean shape {mean.shape}; expected ({len(x)}, {latent_dim})")
    if not np.all(std > 0):
        raise ValueError("the encoder's q(z|x) has a standard deviation <= 0")
    return mean, std


def _pixel_probabilities(output, count: int, pixels: int) -> np.ndarray:
    import tensorflow_probability as tfp

    if not isinstance(output, tfp.distributions.Distribution):
        raise ValueError("the decoder must output a TFP distribution over the pixels (a DistributionLambda layer)")
    probs = np.asarray(output.mean(), np.float64).reshape(count, -1)
    if probs.shape[1] != pixels:
        raise ValueError(f"the decoder's output has {probs.shape[1]} values per image; expected {pixels}")
    if np.any(probs < 0) or np.any(probs > 1):
        raise ValueError("the decoder's mean is outside [0, 1]: it must be a Bernoulli distribution over the pixels")
    return probs


def vae_elbo_parts(returned, inputs) -> tuple:
    """q(z|x)'s mean and standard deviation, and the decoder's pixel probabilities for
    ``num_samples`` reparameterised draws z = mu + sigma eps (eps drawn here)."""
    encoder, decoder = _pair(returned, ("encoder", "decoder"))
    x, latent_dim, k = inputs["x"], inputs["latent_dim"], inputs["num_samples"]
    mean, std = _posterior_moments(encoder, x, latent_dim)
    eps = np.random.default_rng(inputs["seed"]).standard_normal((k, *mean.shape))
    z = (mean + std * eps).reshape(-1, latent_dim).astype(np.float32)
    probs = _pixel_probabilities(decoder(z, training=False), len(z), int(np.prod(x.shape[1:])))
    return mean, std, probs.reshape(k, len(x), -1)


def elbo_measures(parts, targets) -> dict:
    """The test ELBO per image: E_q[log Bernoulli(x | p(z))] (Monte Carlo) - KL(q || N(0, I)) (closed form)."""
    mean, std, probs = parts
    x = targets["x"]
    p = np.clip(probs, 1e-7, 1.0 - 1e-7)
    log_likelihood = np.mean(np.sum(x * np.log(p) + (1.0 - x) * np.log1p(-p), axis=-1), axis=0)
    kl = np.sum(0.5 * (mean**2 + std**2 - 1.0) - np.log(std), axis=-1)
    return {"elbo": float(np.mean(log_likelihood - kl)), "kl": float(np.mean(kl))}


def class_samples(returned, inputs) -> tuple:
    """Decode ``per_class`` prior draws z ~ N(0, I) (drawn here) with each class's one-hot label:
    the decoder's mean images, class 0's first."""
    _, decoder = _pair(returned, ("encoder", "decoder"))
    latent_dim, per_class, classes = inputs["latent_dim"], inputs["per_class"], inputs["classes"]
    z = np.random.default_rng(inputs["seed"]).standard_normal((classes * per_class, latent_dim)).astype(np.float32)
    labels = np.eye(classes, dtype=np.float32)[np.repeat(np.arange(classes), per_class)]
    return (_pixel_probabilities(decoder([z, labels], training=False), len(z), inputs["pixels"]),)


def judged_class_measures(parts, targets) -> dict:
    """The share of samples of class c that the course's judge classifier calls c."""
    from course.checks.judge import judge_predict

    (images,) = parts
    wanted = np.repeat(np.arange(targets["classes"]), targets["per_class"])
    return {"judge_accuracy": float(np.mean(judge_predict(images) == wanted))}


def posterior_moments(returned, inputs) -> tuple:
    """A (mean, standard deviation) pair of the posterior over the weights, each of shape (D,)."""
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        raise ValueError(f"got a {type(returned).__name__}, not a pair (mean, std)")
    d = inputs["dim"]
    mean, std = (np.asarray(part, dtype=np.float64).reshape(-1) for part in returned)
    if mean.shape != (d,) or std.shape != (d,):
        raise ValueError(f"the mean and std have shapes {mean.shape} and {std.shape}; expected ({d},) each")
    return mean, std


def posterior_measures(parts, targets) -> dict:
    """Largest error of the posterior mean in exact posterior standard deviations, and largest
    |log(std / exact std)|."""
    mean, std = parts
    exact_mean, exact_std = targets["mean"], targets["std"]
    with np.errstate(all="ignore"):
        std_error = float(np.max(np.abs(np.log(std / exact_std)))) if np.all(std > 0) else float("inf")
    return {"mean_error": float(np.max(np.abs(mean - exact_mean) / exact_std)), "std_error": std_error}
