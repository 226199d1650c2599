"""Plausible wrong answers, one per question: the self-check names the mistake, and grading takes
that question's points and keeps every other question's.

Each wrong answer is what a student could write: a KL with the wrong sign, the 1/T missing, the
entropy of the mean instead of the mean of the entropies, a variance used as a standard deviation...
"""
import ast

import nbformat
import numpy as np
import pytest

from course.checks import EXERCISES, QUESTIONS, check, exercise_of
from course.checks.models import ModelQuestion
from course.grading.grader import grade
from course.syllabus import REPO_ROOT

WRONG = {
    "bayes.posterior": ("""
def beta_binomial_update(prior_a, prior_b, successes, trials):
    return prior_a + trials - successes, prior_b + successes
""", "swapped successes and failures"),
    "bayes.map": ("""
def map_estimate(prior_a, prior_b, successes, trials):
    return (prior_a + successes) / (prior_a + prior_b + trials)
""", "that is the posterior mean"),
    "bayes.evidence": ("""
def log_evidence(prior_a, prior_b, successes, trials):
    from scipy.special import betaln
    return betaln(prior_a + successes, prior_b + trials - successes) - betaln(prior_a, prior_b)
""", "binomial coefficient C(n, k) is missing"),
    "bayes.linear_posterior": ("""
def linear_regression_posterior(features, targets, prior_precision, noise_precision):
    covariance = np.linalg.inv(prior_precision * np.eye(features.shape[1]) + noise_precision * features.T @ features)
    return covariance @ features.T @ targets, covariance
""", "the mean needs the noise precision"),
    "why.softmax": ("""
def softmax(logits):
    return np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
""", "subtract each row's largest logit"),
    "why.entropy": ("""
def entropy(probs):
    return -np.sum(probs * np.log(probs), axis=-1)
""", "0 log 0 gives NaN"),
    "why.ece": ("""
def expected_calibration_error(labels, probs, n_bins):
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    edges = np.linspace(0, 1, n_bins + 1)
    gaps = [abs(correct[m].mean() - confidence[m].mean())
            for m in [(confidence > lo) & (confidence <= hi) for lo, hi in zip(edges[:-1], edges[1:])] if m.any()]
    return float(np.mean(gaps))
""", "weight each bin"),
    "inference.acceptance": ("""
def hmc_acceptance_probability(log_prob_current, log_prob_proposed, momentum_current, momentum_proposed):
    h0 = -log_prob_current + 0.5 * np.sum(momentum_current**2, axis=-1)
    h1 = -log_prob_proposed + 0.5 * np.sum(momentum_proposed**2, axis=-1)
    return np.exp(h0 - h1)
""", "at most 1"),
    "inference.leapfrog": ("""
def leapfrog(position, momentum, grad_log_prob, step_size, num_steps):
    for _ in range(num_steps):
        momentum = momentum + step_size * grad_log_prob(position)
        position = position + step_size * momentum
        momentum = momentum + step_size * grad_log_prob(position)
    return position, momentum
""", "half steps"),
    "inference.vi_loss": ("""
def vi_loss(log_likelihoods, kl, n_train):
    return -np.mean(log_likelihoods) + kl
""", "divide the KL by the number of training examples"),
    "mcdropout.forward": ("""
def mc_dropout_forward(x, w1, b1, w2, b2, keep_masks, rate):
    return (np.maximum(x @ w1 + b1, 0.0) * keep_masks) @ w2 + b2
""", "scaled by 1 / (1 - rate)"),
    "mcdropout.predictive": ("""
def mc_predictive(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    return probs.sum(axis=0)
""", "the 1/T is missing"),
    "mcdropout.weight_decay": ("""
def dropout_weight_decay(length_scale, rate, n_train, tau):
    return length_scale**2 * rate / (2 * n_train * tau)
""", "keep probability"),
    "uncertainty.gaussian_nll": ("""
def gaussian_nll(y, mean, variance):
    return np.mean(0.5 * np.log(2 * np.pi * variance**2) + (y - mean) ** 2 / (2 * variance**2))
""", "used the variance as a standard deviation"),
    "uncertainty.heteroscedastic_loss": ("""
def heteroscedastic_loss(y, mean, log_variance):
    return np.mean(0.5 * np.exp(log_variance) * (y - mean) ** 2 + 0.5 * log_variance)
""", "not exp(s)"),
    "uncertainty.expected_entropy": ("""
def expected_entropy(prob_samples):
    p = prob_samples.mean(axis=0)
    return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)
""", "that is the entropy of the mean prediction"),
    "uncertainty.mutual_information": ("""
def mutual_information(prob_samples):
    def h(p):
        return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)
    return h(prob_samples).mean(axis=0) - h(prob_samples.mean(axis=0))
""", "wrong sign: MI"),
    "uncertainty.regression_split": ("""
def regression_uncertainty(mean_samples, variance_samples):
    return variance_samples.mean(axis=0), mean_samples.std(axis=0)
""", "not their standard deviation"),
    "ae.bernoulli_loss": ("""
def bernoulli_reconstruction_loss(x, logits):
    per_pixel = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    return per_pixel.reshape(len(x), -1).mean(axis=1)
""", "sum over the pixels"),
    "ae.linear_autoencoder": ("""
def linear_autoencoder(x, k):
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:k].T @ vt[:k]
""", "centre the data"),
    "ae.conv_transpose_size": ("""
def conv_transpose_output_size(size, kernel_size, stride, padding):
    if padding == "same":
        return -(-size // stride)
    return (size - kernel_size) // stride + 1
""", "ordinary convolution"),
    "vae.reparameterize": ("""
def reparameterize(mean, log_variance, eps):
    return mean + np.exp(log_variance) * eps
""", "not by the variance"),
    "vae.kl": ("""
def kl_to_standard_normal(mean, log_variance):
    return -0.5 * np.sum(mean**2 + np.exp(log_variance) - 1 - log_variance, axis=-1)
""", "wrong sign: KL(q || p) >= 0"),
    "vae.elbo": ("""
def elbo(x, logits, mean, log_variance):
    log_lik = (logits * x - np.maximum(logits, 0) - np.log1p(np.exp(-np.abs(logits)))).reshape(len(x), -1).sum(axis=1)
    return log_lik + 0.5 * np.sum(mean**2 + np.exp(log_variance) - 1 - log_variance, axis=-1)
""", "the ELBO subtracts the KL"),
    "vae.iwae": ("""
def importance_weighted_bound(log_weights):
    return log_weights.mean(axis=0)
""", "that is the ELBO"),
    "cvae.condition": ("""
def condition_on_label(features, labels, num_classes):
    return np.column_stack([features.reshape(len(features), -1), labels])
""", "one-hot vector"),
    "cvae.class_posterior": ("""
def class_posterior(log_likelihoods, log_prior):
    w = np.exp(log_likelihoods - log_likelihoods.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)
""", "multiplies by the prior"),
}


FORMULA_QUESTIONS = {grade_id for grade_id, q in QUESTIONS.items() if not isinstance(q, ModelQuestion)}
"""The model questions' wrong answers are the answer key's mistakes (tests/test_model_questions.py)."""


def test_every_question_has_a_wrong_answer():
    assert set(WRONG) == FORMULA_QUESTIONS


def _function(source):
    """The function a wrong answer defines (its first top-level def)."""
    namespace = {"np": np}
    exec(source, namespace)  # noqa: S102 - the test's own wrong answers
    name = next(node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))
    return namespace[name]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow and log(0) are the point of some answers
@pytest.mark.parametrize("grade_id", sorted(WRONG))
def test_the_self_check_names_the_mistake(grade_id):
    source, diagnosis = WRONG[grade_id]
    with pytest.raises(AssertionError) as failure:
        check(grade_id, _function(source))
    assert diagnosis in str(failure.value), str(failure.value)


def _answer_cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("bdl_tf", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A folder with one student per question, each handing in the solution with that one answer wrong
    (and one who hard-codes the public outputs), graded without kernels: one worker for all."""
    folder = tmp_path_factory.mktemp("wrong")
    for grade_id, (source, _) in WRONG.items():
        name = exercise_of(grade_id)
        notebook = _without_model_answers(name)
        _answer_cell(notebook, grade_id).source = source.strip()
        (folder / grade_id).mkdir()
        nbformat.write(notebook, folder / grade_id / f"{name}.ipynb")
    (folder / "lookup").mkdir()
    lookup = _without_model_answers("07_vae")
    _answer_cell(lookup, "vae.kl").source = _lookup_table_answer()
    nbformat.write(lookup, folder / "lookup" / "07_vae.ipynb")
    rows = grade(folder, execute=False, case_timeout=10)
    return {(row.student, row.question): row for row in rows}


def _without_model_answers(name):
    """The solution of exercise ``name`` with its model questions left blank (as in the exercise):
    each of them is trained and graded once, in tests/test_model_questions.py, not once per student here."""
    notebook = nbformat.read(REPO_ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    blank = nbformat.read(REPO_ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    for question in EXERCISES[name]:
        if isinstance(question, ModelQuestion):
            _answer_cell(notebook, question.grade_id).source = _answer_cell(blank, question.grade_id).source
    return notebook


def _lookup_table_answer():
    """An answer that returns the public cases' expected outputs and nonsense otherwise."""
    from course.checks.expected import public

    table = [(c.inputs["mean"].tolist(), e.value.tolist()) for c, e in zip(QUESTIONS["vae.kl"].cases, public("07_vae")["vae.kl"])]
    return (
        "def kl_to_standard_normal(mean, log_variance):\n"
        f"    for known, answer in {table!r}:\n"
        "        if np.shape(mean) == np.shape(known) and np.allclose(mean, known):\n"
        "            return np.array(answer)\n"
        "    return np.zeros(len(mean))"
    )


@pytest.mark.parametrize("grade_id", sorted(WRONG))
def test_a_wrong_answer_loses_its_question_and_keeps_the_others(graded, grade_id):
    row = graded[(grade_id, grade_id)]
    assert row.points == 0 and WRONG[grade_id][1] in row.reason, row.reason
    others = [q.grade_id for q in EXERCISES[exercise_of(grade_id)] if q.grade_id in FORMULA_QUESTIONS - {grade_id}]
    for other in others:
        assert graded[(grade_id, other)].points == graded[(grade_id, other)].max_points > 0, graded[(grade_id, other)]


def test_hard_coded_public_answers_pass_the_self_check_but_not_the_hidden_cases(graded):
    check("vae.kl", _function(_lookup_table_answer()))  # passes: it knows the public cases
    row = graded[("lookup", "vae.kl")]
    assert row.points == 0 and row.reason.startswith("hidden case 1 of 3:"), row.reason
    assert graded[("lookup", "vae.elbo")].points == 3
