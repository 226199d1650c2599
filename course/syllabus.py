"""The course as data: the lecture's slide topics, and the notebook that teaches each of them.

The lecture is "Bayesian Deep Learning" (Leal-Taixé & Nießner), slides 1-66; slide 1 is the title.
Every other slide belongs to a topic, every topic to one lecture notebook. Exercise notebooks
(``solutions/NN_topic.ipynb``, graded) are attached to lecture notebooks as they are written.
Paths are relative to the repository root.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LECTURE_SLIDES = 66
"""Number of slides in the lecture; slides 2..66 must all be covered by some topic."""


@dataclass(frozen=True)
class SlideTopic:
    """A topic of the lecture and the slides that teach it."""

    key: str
    title: str
    slides: tuple[int, ...]


@dataclass(frozen=True)
class LectureNotebook:
    """A lecture notebook, the slide topics it covers (keys into ``SLIDE_TOPICS``) and its exercise."""

    path: str
    title: str
    topics: tuple[str, ...]
    exercise: str | None = None

    @property
    def name(self) -> str:
        """The file name without extension, e.g. ``01_bayes``."""
        return Path(self.path).stem


def _slides(first: int, last: int | None = None) -> tuple[int, ...]:
    return tuple(range(first, (last if last is not None else first) + 1))


_TOPICS = (
    SlideTopic("bayes_theorem", "Bayes' theorem: p(H|E) = p(E|H) p(H) / p(E); hypothesis = model, evidence = data", _slides(2, 3)),
    SlideTopic("posterior_terms", "prior, likelihood, posterior and evidence: p(theta|x) = p(x|theta) p(theta) / p(x)", _slides(4, 5)),
    SlideTopic("map_vs_posterior", "MAP point estimate vs the full posterior distribution", _slides(6)),
    SlideTopic("black_box", "strengths of deep learning, and the black box that cannot say how confident it is", _slides(7, 8)),
    SlideTopic("dog_breed", "why uncertainty: the dog breed the network never saw", _slides(9, 11)),
    SlideTopic("uses_of_uncertainty", "what uncertainty buys: decision making, limited/noisy/missing data, insight into failures", _slides(12)),
    SlideTopic("weight_distributions", "distributions over the weights and how they change the predictions", _slides(13, 14)),
    SlideTopic("not_sure", "a model that says 'I am not really sure' (Kendall & Gal 2017)", _slides(15)),
    SlideTopic("bayesian_nn", "Bayesian neural networks: a posterior over the model parameters", _slides(16)),
    SlideTopic("intractable_evidence", "intractable evidence: p(x) = integral of p(x|theta) p(theta) over all parameter combinations", _slides(17)),
    SlideTopic("mcmc", "Markov chain Monte Carlo: a chain theta_t -> theta_t+1 -> ... converging to the posterior (slow)", _slides(18, 19)),
    SlideTopic("variational_inference", "variational inference: q*(theta) = argmin KL(q(theta) || p(theta|x))", _slides(18, 19)),
    SlideTopic("dropout_regulariser", "dropout as a regulariser (Srivastava et al. 2014)", _slides(20, 21)),
    SlideTopic("redundant_representations", "dropout forces redundant representations (furry, two eyes, tail, paws...)", _slides(22, 23)),
    SlideTopic("dropout_ensemble", "dropout trains an ensemble of thinned networks (model 1, model 2, ...)", _slides(24)),
    SlideTopic("dropout_bernoulli_vi", "dropout as variational inference with a Bernoulli q (Gal & Ghahramani 2016)", _slides(25)),
    SlideTopic("mc_dropout_test_time", "dropout kept on at test time: Monte Carlo dropout", _slides(26)),
    SlideTopic("mc_dropout_predictive", "MC dropout predictive: p(y=c|x) ~ 1/T sum_t softmax(f_theta_t(x))", _slides(27)),
    SlideTopic("aleatoric_epistemic", "aleatoric vs epistemic uncertainty (Kendall & Gal 2017)", _slides(28, 32)),
    SlideTopic("autoencoder", "autoencoder: conv encoder to z, transpose-conv decoder reconstructs x", _slides(33, 35)),
    SlideTopic("vae_goal", "generating new outputs by sampling a latent distribution", _slides(36)),
    SlideTopic("vae_encoder", "VAE encoder: mean and diagonal covariance, z|x ~ N(mu, Sigma)", _slides(37, 40)),
    SlideTopic("vae_intractable_likelihood", "the intractable marginal likelihood p_theta(x) = integral p(x|z) p(z) dz", _slides(41, 42)),
    SlideTopic("elbo_derivation", "ELBO derivation: log p(x) = reconstruction - KL(q||prior) + KL(q||posterior) >= lower bound", _slides(43, 51)),
    SlideTopic("kl_unit_gaussian", "KL to the unit Gaussian prior keeps the posterior close to N(0, I)", _slides(52, 54)),
    SlideTopic("gaussian_decoder", "the decoder output is a distribution too: x|z ~ N(mu_x|z, Sigma_x|z)", _slides(55, 57)),
    SlideTopic("reparameterisation", "the reparameterisation trick z = mu + sigma * eps (Kingma & Welling 2014)", _slides(58)),
    SlideTopic("prior_sampling", "generating by sampling z from the prior (unit Gaussian)", _slides(59, 60)),
    SlideTopic("latent_traversals", "latent features and traversals: each z dimension a feature (smile, head pose)", _slides(61, 62)),
    SlideTopic("ae_vs_vae", "autoencoder vs variational autoencoder", _slides(63)),
    SlideTopic("conditional_vae", "conditional VAE (Sohn et al. 2015; Yan et al. 2016)", _slides(64, 65)),
    SlideTopic("vae_applications", "applications: Walker 2016, Larsen 2016, Deshpande 2016, Yeh 2016, Kingma 2014, Yan 2016", _slides(65, 66)),
)
SLIDE_TOPICS: dict[str, SlideTopic] = {topic.key: topic for topic in _TOPICS}

NOTEBOOKS: tuple[LectureNotebook, ...] = (
    LectureNotebook(
        "notebooks/01_bayes.ipynb", "Going full Bayesian: Bayes' theorem, posteriors and predictions",
        ("bayes_theorem", "posterior_terms", "map_vs_posterior", "weight_distributions", "bayesian_nn",
         "intractable_evidence"),
        exercise="exercises/01_bayes.ipynb",
    ),
    LectureNotebook(
        "notebooks/02_why_uncertainty.ipynb", "Why uncertainty: confidently wrong on what it never saw",
        ("black_box", "dog_breed", "uses_of_uncertainty", "not_sure"),
        exercise="exercises/02_why_uncertainty.ipynb",
    ),
    LectureNotebook(
        "notebooks/03_approximate_inference.ipynb", "Approximate inference: MCMC vs variational inference",
        ("mcmc", "variational_inference"),
        exercise="exercises/03_approximate_inference.ipynb",
    ),
    LectureNotebook(
        "notebooks/04_mc_dropout.ipynb", "Dropout and Monte Carlo dropout",
        ("dropout_regulariser", "redundant_representations", "dropout_ensemble", "dropout_bernoulli_vi",
         "mc_dropout_test_time", "mc_dropout_predictive"),
        exercise="exercises/04_mc_dropout.ipynb",
    ),
    LectureNotebook(
        "notebooks/05_aleatoric_epistemic.ipynb", "Aleatoric and epistemic uncertainty",
        ("aleatoric_epistemic",),
        exercise="exercises/05_aleatoric_epistemic.ipynb",
    ),
    LectureNotebook(
        "notebooks/06_autoencoders.ipynb", "Autoencoders",
        ("autoencoder",),
        exercise="exercises/06_autoencoders.ipynb",
    ),
    LectureNotebook(
        "notebooks/07_vae.ipynb", "Variational autoencoders",
        ("vae_goal", "vae_encoder", "vae_intractable_likelihood", "elbo_derivation", "kl_unit_gaussian",
         "gaussian_decoder", "reparameterisation", "prior_sampling", "latent_traversals", "ae_vs_vae"),
        exercise="exercises/07_vae.ipynb",
    ),
    LectureNotebook(
        "notebooks/08_conditional_vae.ipynb", "Conditional VAEs and applications",
        ("conditional_vae", "vae_applications"),
        exercise="exercises/08_conditional_vae.ipynb",
    ),
)


def notebook_paths(root: Path | str = REPO_ROOT) -> list[Path]:
    """The lecture notebooks' paths in lecture order, under ``root``."""
    return [Path(root) / notebook.path for notebook in NOTEBOOKS]


def find_notebook(name: str) -> LectureNotebook:
    """The lecture notebook called ``name``: its stem (``01_bayes``), file name or number (``01``, ``1``)."""
    for notebook in NOTEBOOKS:
        number = notebook.name.split("_", 1)[0]
        if name in (notebook.name, Path(notebook.path).name, number) or (name.isdigit() and int(name) == int(number)):
            return notebook
    known = ", ".join(notebook.name for notebook in NOTEBOOKS)
    raise KeyError(f"no lecture notebook called {name!r}; the syllabus has {known}")


def notebook_for_topic(key: str) -> LectureNotebook:
    """The lecture notebook that teaches the slide topic ``key``."""
    if key not in SLIDE_TOPICS:
        raise KeyError(f"unknown slide topic {key!r}")
    return next(notebook for notebook in NOTEBOOKS if key in notebook.topics)
