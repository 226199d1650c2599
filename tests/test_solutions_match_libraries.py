"""The solutions that claim to compute what a library computes, against that library on random inputs.

The graded cases are few and were chosen by hand; a solution can pass them and still disagree with
the library it says it matches (the transpose-convolution size with "valid" padding and a kernel
smaller than the stride did). Here each solution cell runs on random inputs, extreme ones included,
next to SciPy, scikit-learn, Keras or TFP.
"""
import nbformat
import numpy as np
import pytest
from scipy import special, stats

from course.checks import SETUP_SOURCE, exercise_of
from course.syllabus import REPO_ROOT

RNG = np.random.default_rng(20261202)


def _solution(grade_id):
    notebook = nbformat.read(REPO_ROOT / "solutions" / f"{exercise_of(grade_id)}.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("bdl_tf", {}).get("grade_id") == grade_id)
    namespace = {}
    exec(SETUP_SOURCE, namespace)  # noqa: S102 - our own solution cells
    exec(cell.source, namespace)  # noqa: S102
    return namespace[cell.metadata["bdl_tf"]["function"]]


def _probs(*shape, zeros=False):
    p = RNG.dirichlet(np.full(shape[-1], 0.5), size=shape[:-1])
    if zeros:
        p[..., 0] = 0.0
        p /= p.sum(axis=-1, keepdims=True)
    return p


def test_transpose_convolution_sizes_are_keras_for_every_kernel_stride_and_padding():
    import tf_keras as keras

    size_of = _solution("ae.conv_transpose_size")
    for padding in ("same", "valid"):
        for n in range(1, 7):
            for k in range(1, 6):
                for s in range(1, 5):
                    layer = keras.layers.Conv2DTranspose(1, k, strides=s, padding=padding)
                    assert size_of(n, k, s, padding) == layer.compute_output_shape((None, n, n, 1))[1], (n, k, s, padding)


def _kl_to_standard_normal(mean, log_variance):
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    q = tfd.MultivariateNormalDiag(mean, np.exp(0.5 * log_variance))
    return tfd.kl_divergence(q, tfd.MultivariateNormalDiag(np.zeros_like(mean), np.ones_like(mean))).numpy()


def _sigmoid_cross_entropy(x, logits):
    import tensorflow as tf

    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(x, logits), axis=-1).numpy()


def _pca_reconstruction(x, k):
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k).fit(x)
    return pca.inverse_transform(pca.transform(x))


def _one_hot_appended(features, labels, num_classes):
    import tf_keras as keras

    return np.concatenate([features.reshape(len(features), -1), keras.utils.to_categorical(labels, num_classes)], axis=1)


def _weight_decay(length_scale, rate, n_train, tau):
    import bdl_tf

    return bdl_tf.dropout_weight_decay(length_scale, rate, n_train, tau)


LOGITS = RNG.normal(0.0, 30.0, size=(20, 6))
PROB_SAMPLES = np.stack([_probs(15, 4, zeros=t == 0) for t in range(7)])
Y, MEAN, LOG_VARIANCE = RNG.normal(size=50), RNG.normal(size=50), RNG.normal(0.0, 2.0, size=50)

CLAIMS = {
    "why.softmax": ((LOGITS,), lambda logits: special.softmax(logits, axis=-1)),
    "why.entropy": ((_probs(30, 5, zeros=True),), lambda p: stats.entropy(p, axis=-1)),
    "bayes.evidence": ((2.5, 1.5, 7, 12), lambda a, b, k, n: stats.betabinom.logpmf(k, n, a, b)),
    "mcdropout.predictive": ((RNG.normal(0, 20, size=(9, 12, 4)),), lambda logits: special.softmax(logits, axis=-1).mean(axis=0)),
    "mcdropout.weight_decay": ((0.7, 0.15, 321, 4.0), _weight_decay),
    "uncertainty.gaussian_nll": ((Y, MEAN, np.exp(LOG_VARIANCE)),
                                 lambda y, m, v: -np.mean(stats.norm.logpdf(y, m, np.sqrt(v)))),
    "uncertainty.heteroscedastic_loss": ((Y, MEAN, LOG_VARIANCE),
                                         lambda y, m, s: -np.mean(stats.norm.logpdf(y, m, np.exp(0.5 * s))) - 0.5 * np.log(2 * np.pi)),
    "uncertainty.expected_entropy": ((PROB_SAMPLES,), lambda p: stats.entropy(p, axis=-1).mean(axis=0)),
    "uncertainty.mutual_information": ((PROB_SAMPLES,),
                                       lambda p: stats.entropy(p.mean(axis=0), axis=-1) - stats.entropy(p, axis=-1).mean(axis=0)),
    "ae.bernoulli_loss": (((RNG.uniform(size=(6, 10)) > 0.5).astype(float), RNG.normal(0, 40, size=(6, 10))), _sigmoid_cross_entropy),
    "ae.linear_autoencoder": ((RNG.normal(size=(40, 6)) @ RNG.normal(size=(6, 6)) + 3.0, 2), _pca_reconstruction),
    "vae.kl": ((RNG.normal(size=(8, 3)), RNG.normal(0, 1.5, size=(8, 3))), _kl_to_standard_normal),
    "vae.iwae": ((RNG.normal(-500.0, 30.0, size=(16, 5)),), lambda w: special.logsumexp(w, axis=0) - np.log(len(w))),
    "cvae.condition": ((RNG.normal(size=(5, 2, 3)), np.array([3, 0, 1, 3, 2]), 4), _one_hot_appended),
    "cvae.class_posterior": ((RNG.normal(-800.0, 40.0, size=(6, 10)), np.log(_probs(10))),
                             lambda ll, lp: special.softmax(ll + lp, axis=-1)),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("grade_id", sorted(CLAIMS))
def test_the_solution_is_the_library_on_random_inputs(grade_id):
    arguments, library = CLAIMS[grade_id]
    ours = np.asarray(_solution(grade_id)(*arguments), dtype=np.float64)
    theirs = np.asarray(library(*arguments), dtype=np.float64)
    assert ours.shape == theirs.shape and np.all(np.isfinite(ours)), (ours, theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
