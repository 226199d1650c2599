"""Answer key of exercise 03 (approximate inference): HMC acceptance and leapfrog, TFP's Normal KL,
the per-example VI loss with bdl_tf.kl_weight; mistakes and hidden cases."""
import numpy as np

from course.checks.cases import GaussianScore, case, wave
from course.grading.answer_key import Answer


def _energy(log_prob, momentum):
    """Hamiltonian H = -log p(x) + |m|^2 / 2 (unit mass matrix)."""
    return -log_prob + 0.5 * np.sum(momentum**2, axis=-1)


def acceptance(log_prob_current, log_prob_proposed, momentum_current, momentum_proposed):
    log_ratio = _energy(log_prob_current, momentum_current) - _energy(log_prob_proposed, momentum_proposed)
    return np.exp(np.minimum(0.0, log_ratio))


def leapfrog(position, momentum, grad_log_prob, step_size, num_steps):
    position, momentum = np.array(position, dtype=np.float64), np.array(momentum, dtype=np.float64)
    for _ in range(num_steps):
        momentum = momentum + 0.5 * step_size * grad_log_prob(position)
        position = position + step_size * momentum
        momentum = momentum + 0.5 * step_size * grad_log_prob(position)
    return position, momentum


def _full_step_leapfrog(position, momentum, grad_log_prob, step_size, num_steps):
    for _ in range(num_steps):
        momentum = momentum + step_size * grad_log_prob(position)
        position = position + step_size * momentum
        momentum = momentum + step_size * grad_log_prob(position)
    return position, momentum


def _euler(position, momentum, grad_log_prob, step_size, num_steps):
    for _ in range(num_steps):
        position, momentum = position + step_size * momentum, momentum + step_size * grad_log_prob(position)
    return position, momentum


def kl_diagonal(mean_q, std_q, mean_p, std_p):
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    return np.sum(tfd.kl_divergence(tfd.Normal(mean_q, std_q), tfd.Normal(mean_p, std_p)).numpy(), axis=-1)


def vi_loss(log_likelihoods, kl, n_train):
    from bdl_tf import kl_weight

    return -np.mean(log_likelihoods) + kl * kl_weight(n_train)


ANSWERS = {
    "inference.acceptance": Answer(
        acceptance,
        mistakes=(
            ("the Hamiltonian includes the kinetic energy: H = -log p(x) + |m|^2 / 2",
             lambda lp0, lp1, m0, m1: np.exp(np.minimum(0.0, lp1 - lp0))),
            ("an acceptance probability is at most 1: min(1, exp(H(current) - H(proposed)))",
             lambda lp0, lp1, m0, m1: np.exp(_energy(lp0, m0) - _energy(lp1, m1))),
            ("the energy difference is backwards: accept with exp(H(current) - H(proposed)), so moves to lower energy are always accepted",
             lambda lp0, lp1, m0, m1: np.exp(np.minimum(0.0, _energy(lp1, m1) - _energy(lp0, m0)))),
            ("the kinetic energy enters with a plus sign: H = -log p(x) + |m|^2 / 2",
             lambda lp0, lp1, m0, m1: np.exp(np.minimum(0.0, (lp1 - lp0) + 0.5 * np.sum(m1**2 - m0**2, axis=-1)))),
        ),
        hidden=(
            case(log_prob_current=wave(6, phase=0.8, scale=3.0, offset=-4.0), log_prob_proposed=wave(6, phase=2.1, scale=3.0, offset=-4.0),
                 momentum_current=wave(6, 3, phase=1.1), momentum_proposed=wave(6, 3, phase=0.2)),
            case(log_prob_current=np.array([-10.0, -0.5]), log_prob_proposed=np.array([-0.5, -10.0]),
                 momentum_current=wave(2, 4, phase=2.7), momentum_proposed=wave(2, 4, phase=1.9)),
        ),
    ),
    "inference.leapfrog": Answer(
        leapfrog,
        mistakes=(
            ("the momentum takes half steps (step_size / 2) before and after each position step", _full_step_leapfrog),
            ("the momentum follows +grad log p (it is pushed towards higher probability), not -grad log p",
             lambda x, m, g, eps, n: leapfrog(x, m, lambda y: -g(y), eps, n)),
            ("that is an Euler step; leapfrog is: half a momentum step, a full position step, another half momentum step",
             _euler),
        ),
        hidden=(
            case(position=np.array([-1.0, 2.0]), momentum=np.array([1.0, 0.0]),
                 grad_log_prob=GaussianScore([0.5, 0.5], [2.0, 0.5]), step_size=0.2, num_steps=3),
            case(position=wave(4, phase=2.2), momentum=wave(4, phase=0.6),
                 grad_log_prob=GaussianScore([0.0, 1.0, -1.0, 0.5], [1.0, 1.5, 0.8, 3.0]), step_size=0.05, num_steps=20),
        ),
    ),
    "inference.kl": Answer(
        kl_diagonal,
        mistakes=(
            ("that is KL(p || q); variational inference minimises KL(q || p), and the KL is not symmetric",
             lambda mq, sq, mp, sp: kl_diagonal(mp, sp, mq, sq)),
            ("you treated the standard deviations as variances (std_q is sigma, not sigma^2)",
             lambda mq, sq, mp, sp: kl_diagonal(mq, np.sqrt(sq), mp, np.sqrt(sp))),
            ("sum the KL over the dimensions (the last axis); don't average it",
             lambda mq, sq, mp, sp: kl_diagonal(mq, sq, mp, sp) / np.shape(mq)[-1]),
        ),
        hidden=(
            case(mean_q=wave(5, 3, phase=1.4), std_q=wave(5, 3, phase=2.4, scale=0.4, offset=1.0),
                 mean_p=wave(5, 3, phase=0.4), std_p=wave(5, 3, phase=1.8, scale=0.2, offset=0.6)),
            case(mean_q=np.array([3.0, 0.0, -2.0, 1.0]), std_q=np.array([0.1, 1.0, 3.0, 0.5]), mean_p=np.zeros(4), std_p=np.ones(4)),
        ),
    ),
    "inference.vi_loss": Answer(
        vi_loss,
        mistakes=(
            ("divide the KL by the number of training examples N: the loss is per example, so the KL counts "
             "once per pass over the data (forgetting it makes the prior N times too strong)",
             lambda ll, kl, n: -np.mean(ll) + kl),
            ("divide the KL by the training-set size N, not by the batch size",
             lambda ll, kl, n: -np.mean(ll) + kl / len(ll)),
            ("average the negative log-likelihood over the batch (mean, not sum)",
             lambda ll, kl, n: -np.sum(ll) + kl / n),
            ("the loss is the negative ELBO: -mean(log-likelihood) + KL / N",
             lambda ll, kl, n: np.mean(ll) - kl / n),
        ),
        hidden=(
            case(log_likelihoods=wave(32, phase=0.3, offset=-1.5), kl=40.0, n_train=10),
            case(log_likelihoods=wave(5, phase=1.3, scale=0.1, offset=-0.1), kl=7.0, n_train=200),
        ),
    ),
}
