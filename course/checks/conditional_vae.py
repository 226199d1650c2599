"""Public cases of exercise 08 (conditional VAE): conditioning inputs on a label, the Gaussian decoder
likelihood, and classifying with class-conditional likelihoods."""
import numpy as np

from course.checks.cases import Question, case, wave

EXERCISE = "08_conditional_vae"

QUESTIONS = (
    Question(
        "cvae.condition",
        (
            case(features=wave(4, 3), labels=np.array([0, 2, 1, 2]), num_classes=3),
            case(features=wave(3, 2, 2, phase=1.0), labels=np.array([4, 0, 9]), num_classes=10),
        ),
    ),
    Question(
        "cvae.gaussian_decoder",
        (
            case(x=wave(3, 4), mean=wave(3, 4, phase=0.6), log_scale=wave(3, 4, phase=1.2, scale=0.5)),
            case(x=wave(2, 3, 3, phase=2.0), mean=wave(2, 3, 3, phase=2.4), log_scale=wave(2, 3, 3, phase=0.1, scale=1.0)),
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
)
