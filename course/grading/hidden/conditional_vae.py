"""Answer key of exercise 08 (conditional VAE): Keras' one-hot encoding, TFP's Normal and SciPy's
softmax as references; mistakes and hidden cases."""
import numpy as np
from scipy.special import softmax

from course.checks.cases import case, wave
from course.grading.answer_key import Answer, Mistake, ModelAnswer


def condition(features, labels, num_classes):
    import tf_keras as keras

    flat = np.reshape(features, (len(features), -1))
    return np.concatenate([flat, keras.utils.to_categorical(labels, num_classes)], axis=1)


def class_posterior(log_likelihoods, log_prior):
    return softmax(log_likelihoods + log_prior, axis=-1)


ANSWERS = {
    "cvae.condition": Answer(
        condition,
        mistakes=(
            ("append the label as a one-hot vector of length num_classes, not as a single number",
             lambda f, y, c: np.column_stack([np.reshape(f, (len(f), -1)), y])),
            ("put the (flattened) features first and the one-hot label after them",
             lambda f, y, c: np.concatenate([np.eye(c)[y], np.reshape(f, (len(f), -1))], axis=1)),
        ),
        hidden=(
            case(features=wave(5, 2, phase=2.0), labels=np.array([1, 1, 0, 3, 2]), num_classes=4),
            case(features=wave(2, 1, 3, 2, phase=0.3), labels=np.array([0, 1]), num_classes=2),
        ),
    ),
    "cvae.class_posterior": Answer(
        class_posterior,
        mistakes=(
            ("Bayes' rule multiplies by the prior: p(c|x) is proportional to p(x|c) p(c)",
             lambda ll, lp: softmax(ll, axis=-1)),
            ("normalise over the classes (the last axis), not over the examples",
             lambda ll, lp: softmax(ll + lp, axis=0)),
            ("that is the log posterior; return the probabilities", lambda ll, lp: np.log(softmax(ll + lp, axis=-1))),
            ("exp underflows for log-likelihoods near -900 (0 / 0 = NaN): subtract each row's largest log joint first",
             lambda ll, lp: np.exp(ll + lp) / np.exp(ll + lp).sum(axis=-1, keepdims=True)),
        ),
        hidden=(
            case(log_likelihoods=wave(6, 4, phase=0.8, scale=5.0, offset=-100.0), log_prior=np.log([0.1, 0.2, 0.3, 0.4])),
            case(log_likelihoods=wave(2, 2, phase=2.2, scale=1.0, offset=-3000.0), log_prior=np.log([0.9, 0.1])),
        ),
    ),
    "cvae.train": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("the decoder ignores the label",
                (("keras.layers.Concatenate()([z_in, y_in])", "keras.layers.Concatenate()([z_in, 0.0 * y_in])"),), ("judge_accuracy",)),
    )),
}
