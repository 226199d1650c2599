"""Answer key of exercise 03 (approximate inference): HMC acceptance and leapfrog, TFP's Normal KL,
the per-example VI loss with bdl_tf.kl_weight; mistakes and hidden cases."""
import numpy as np

from course.checks.cases import GaussianScore, case, wave
from course.grading.answer_key import Answer, Mistake, ModelAnswer


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
    "inference.posterior": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("a variance used as the scale (standard deviation) of q",
                (("return loc.numpy(), tf.convert_to_tensor(scale).numpy()",
                  "return loc.numpy(), tf.convert_to_tensor(scale).numpy() ** 2"),), ("std_error",)),
        Mistake("the prior left out: that is maximum likelihood with noise, not the posterior",
                (("return tf.reduce_sum(prior, -1) + tf.reduce_sum(likelihood, -1)",
                  "return tf.reduce_sum(likelihood, -1)"),), ("mean_error",)),
        Mistake("the noise precision used as the noise standard deviation",
                (("noise_precision**-0.5).log_prob(targets)", "noise_precision).log_prob(targets)"),), ("std_error",)),
    )),
    "inference.bnn": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("the KL not divided by N: the prior counts N times",
                (("kl_weight * tfp.distributions.kl_divergence(q, p)", "tfp.distributions.kl_divergence(q, p)"),), ("nll",)),
        Mistake("deterministic Dense layers instead of Flipout ones: no weight uncertainty",
                (("tfp.layers.DenseFlipout(64, activation=\"relu\", input_shape=(1,), kernel_divergence_fn=divergence)",
                  "keras.layers.Dense(64, activation=\"relu\", input_shape=(1,))"),
                 ("tfp.layers.DenseFlipout(64, activation=\"relu\", kernel_divergence_fn=divergence)",
                  "keras.layers.Dense(64, activation=\"relu\")"),
                 ("tfp.layers.DenseFlipout(bdl_tf.NormalHead.params_size(1), kernel_divergence_fn=divergence)",
                  "keras.layers.Dense(bdl_tf.NormalHead.params_size(1))")), ("epistemic_ratio",)),
    )),
}
