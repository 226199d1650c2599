"""Public cases of exercise 08 (conditional VAE): conditioning inputs on a label, the Gaussian decoder
likelihood, and classifying with class-conditional likelihoods."""
from functools import partial

import numpy as np

from course.checks import probes, tasks
from course.checks.cases import Question, case, wave
from course.checks.models import Criterion, ModelQuestion

EXERCISE = "08_conditional_vae"

TRAIN = ModelQuestion(
    "cvae.train",
    ("images", "labels", "latent_dim", "steps"),
    partial(tasks.labelled_images, latent_dim=2),
    probes.class_samples,
    probes.judged_class_measures,
    (
        Criterion("judge_accuracy", "share of class-c samples the judge calls c", True,
                  "does the decoder use the label (decoder([z, one_hot]))?"),
    ),
    steps={"quick": 800, "full": 2500},
    returns="a pair (encoder, decoder) of tf_keras models; decoder([z, one_hot_labels]) gives p(x | z, y)",
)
"""A conditional VAE whose samples of class c a fixed judge classifier recognises as c."""

QUESTIONS = (
    Question(
        "cvae.condition",
        (
            case(features=wave(4, 3), labels=np.array([0, 2, 1, 2]), num_classes=3),
            case(features=wave(3, 2, 2, phase=1.0), labels=np.array([4, 0, 9]), num_classes=10),
        ),
    ),
    Question(
        "cvae.class_posterior",
        (
            case(log_likelihoods=wave(4, 3, scale=3.0, offset=-20.0), log_prior=np.log([0.5, 0.3, 0.2])),
            case(log_likelihoods=wave(3, 10, phase=1.0, scale=50.0, offset=-900.0), log_prior=np.log(np.full(10, 0.1))),
        ),
        nan_hint="exp underflows for log-likelihoods near -900: subtract the largest log joint first",
    ),
    TRAIN,
)
