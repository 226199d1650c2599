"""Public cases of exercise 07 (VAE): reparameterisation, the KL to N(0, I), the ELBO and the IWAE bound."""
from functools import partial

from course.checks import probes, tasks
from course.checks.cases import Question, case, mask, wave
from course.checks.models import Criterion, ModelQuestion

EXERCISE = "07_vae"

TRAIN = ModelQuestion(
    "vae.train",
    ("images", "latent_dim", "steps"),
    partial(tasks.vae_images, latent_dim=4),
    probes.vae_elbo_parts,
    probes.elbo_measures,
    (
        Criterion("elbo", "held-out ELBO per image", True,
                  "is the KL term in the loss, z sampled from q (not its mean), and the sigmoid applied once?", " nats"),
    ),
    steps={"quick": 1500, "full": 4000},
    returns="a pair (encoder, decoder) of tf_keras models ending in DistributionLambda layers",
    reported=("kl",),
)
"""A VAE with a DistributionLambda encoder q(z|x) and a Bernoulli decoder p(x|z), judged by its test ELBO."""

QUESTIONS = (
    Question(
        "vae.reparameterize",
        (
            case(mean=wave(3, 2), log_variance=wave(3, 2, phase=1.0), eps=wave(3, 2, phase=2.0)),
            case(mean=wave(4, 5, phase=0.5), log_variance=wave(4, 5, phase=1.5, scale=2.0), eps=wave(4, 5, phase=2.5)),
        ),
    ),
    Question(
        "vae.kl",
        (
            case(mean=wave(3, 2), log_variance=wave(3, 2, phase=1.0)),
            case(mean=wave(4, 5, phase=0.5, scale=2.0), log_variance=wave(4, 5, phase=1.5, scale=2.0)),
        ),
    ),
    Question(
        "vae.elbo",
        (
            case(x=mask(3, 6, phase=0.1), logits=wave(3, 6, phase=0.7, scale=3.0),
                 mean=wave(3, 2, phase=1.2), log_variance=wave(3, 2, phase=1.9)),
            case(x=mask(2, 3, 3, phase=0.8), logits=wave(2, 3, 3, phase=0.2, scale=2.0),
                 mean=wave(2, 4, phase=2.2), log_variance=wave(2, 4, phase=0.4)),
        ),
        nan_hint="compute the Bernoulli log-likelihood from the logits without exp overflow",
    ),
    Question(
        "vae.iwae",
        (
            case(log_weights=wave(5, 3, offset=-10.0, scale=2.0)),
            case(log_weights=wave(50, 2, phase=1.0, offset=-1000.0, scale=5.0)),
        ),
        nan_hint="exp(log w) underflows to 0 for log w near -1000: use the log-sum-exp trick",
    ),
    TRAIN,
)
