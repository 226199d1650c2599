"""bdl_tf: Bayesian deep learning with tf_keras (Keras 2) and TensorFlow Probability.

    import tf_keras as keras
    import bdl_tf

    model = keras.Sequential([
        keras.layers.Dense(64, "relu", input_shape=(1,)), bdl_tf.MCDropout(0.1),
        keras.layers.Dense(bdl_tf.NormalHead.params_size(1)), bdl_tf.NormalHead(1),
    ])
    model.compile("adam", bdl_tf.negative_log_likelihood)
    model.fit(x, y, epochs=200)
    split = bdl_tf.mc_predict(model, x_test, num_samples=200).regression()
    split.mean, split.aleatoric, split.epistemic
    # T = 10,000 passes in O(N) memory, with the MC predictive log-likelihood of y:
    summary = bdl_tf.mc_predict(model, x_test, 10_000, keep_samples=False, y=y_test)

Submodules: ``metrics``, ``uncertainty``, ``datasets``, ``inference`` (exact, MCMC, VI), ``vae``
(autoencoders, VAEs, CVAEs), ``plots`` (import it explicitly).
"""
from bdl_tf import datasets, inference, metrics, uncertainty, vae
from bdl_tf._config import by_mode, quick_mode, runtime_summary, set_seed
from bdl_tf._validation import CorruptFileError
from bdl_tf.ensembles import EnsembleDense, ensemble_negative_log_likelihood, ensemble_predict
from bdl_tf.heads import (
    BernoulliHead,
    CategoricalHead,
    HeteroscedasticCategoricalHead,
    NormalHead,
    negative_log_likelihood,
)
from bdl_tf.layers import ConcreteDropout, MCDropout, MCSpatialDropout1D, MCSpatialDropout2D, MCSpatialDropout3D
from bdl_tf.progress import ProgressBar, fit_progress
from bdl_tf.regularization import dropout_weight_decay, kl_weight, model_precision
from bdl_tf.sampling import IdenticalPassesWarning, MCPrediction, mc_predict
from bdl_tf.saving import load_model, save_model
from bdl_tf.streaming import MCSummary

__version__ = "0.1.0"

__all__ = [
    "BernoulliHead",
    "CategoricalHead",
    "ConcreteDropout",
    "CorruptFileError",
    "EnsembleDense",
    "HeteroscedasticCategoricalHead",
    "IdenticalPassesWarning",
    "MCDropout",
    "MCPrediction",
    "MCSummary",
    "MCSpatialDropout1D",
    "MCSpatialDropout2D",
    "MCSpatialDropout3D",
    "NormalHead",
    "ProgressBar",
    "__version__",
    "by_mode",
    "datasets",
    "inference",
    "load_model",
    "dropout_weight_decay",
    "ensemble_negative_log_likelihood",
    "ensemble_predict",
    "fit_progress",
    "kl_weight",
    "mc_predict",
    "metrics",
    "model_precision",
    "negative_log_likelihood",
    "quick_mode",
    "save_model",
    "runtime_summary",
    "set_seed",
    "uncertainty",
    "vae",
]
