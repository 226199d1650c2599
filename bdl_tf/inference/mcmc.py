"""Hamiltonian Monte Carlo and NUTS for small models, on ``tfp.mcmc``, with the usual diagnostics.

MCMC builds a chain ``theta_t -> theta_{t+1} -> ...`` whose draws converge to the posterior: exact
in the limit, but every step needs the gradient of the log joint over the whole data set ("slow").
The step size is tuned during burn-in by dual averaging (Hoffman & Gelman 2014); R-hat
(Gelman-Rubin, ``~1`` when chains agree) and the effective sample size (ESS) say whether the draws
can be trusted.
"""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf._random import stateless_seed
from bdl_tf._validation import (
    as_array,
    check_callable,
    check_choice,
    check_positive,
    check_positive_int,
    check_probability,
    check_seed,
)
from bdl_tf.progress import mcmc_progress_bar, progress_enabled

KERNELS = ("nuts", "hmc")


@dataclass(frozen=True)
class MCMCResult:
    """Draws and diagnostics of :func:`run_mcmc`.

    Attributes:
        samples: ``[num_results, num_chains, *event_shape]`` draws after burn-in.
        acceptance_rate: mean Metropolis acceptance probability ``min(1, exp(log_accept_ratio))``
            over the kept draws (close to the target when adaptation worked).
        step_size: the leapfrog step size after adaptation.
        r_hat: potential scale reduction per parameter (``event_shape``); ``< 1.01`` is good,
            ``> 1.1`` means the chains have not mixed.
        ess: effective sample size per parameter, summed over chains (``event_shape``): the
            Monte-Carlo standard error of a posterior mean is ``sd / sqrt(ess)``.
        seconds: wall time of the run, graph tracing included.
    """

    samples: np.ndarray
    acceptance_rate: float
    step_size: float
    r_hat: np.ndarray
    ess: np.ndarray
    seconds: float

    @property
    def flat_samples(self) -> np.ndarray:
        """All chains' draws stacked: ``[num_results * num_chains, *event_shape]``."""
        return self.samples.reshape((-1,) + self.samples.shape[2:])


@contextlib.contextmanager
def _quiet_tensorflow_logger():
    """Silence TFP's internal "casting complex to float" warning from the FFT inside ESS."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _make_kernel(kernel, target_log_prob_fn, step_size, num_leapfrog_steps, max_tree_depth):
    if kernel == "nuts":
        return tfp.mcmc.NoUTurnSampler(target_log_prob_fn, step_size=step_size, max_tree_depth=max_tree_depth)
    return tfp.mcmc.HamiltonianMonteCarlo(
        target_log_prob_fn, step_size=step_size, num_leapfrog_steps=num_leapfrog_steps
    )


def run_mcmc(
    target_log_prob_fn,
    initial_state,
    *,
    num_results: int = 500,
    num_burnin_steps: int = 500,
    kernel: str = "nuts",
    step_size: float = 0.1,
    num_leapfrog_steps: int = 8,
    max_tree_depth: int = 8,
    target_accept_prob: float = 0.75,
    seed: int = 0,
) -> MCMCResult:
    """Run several HMC or NUTS chains with dual-averaging step-size adaptation, compiled with tf.function.

    Args:
        target_log_prob_fn: unnormalised log posterior, ``[num_chains, *event] -> [num_chains]``,
            e.g. ``log p(y | theta) + log p(theta)`` (see ``linear_regression_log_joint``).
        initial_state: float tensor ``[num_chains, *event_shape]``, one starting point per chain;
            at least 2 chains, since R-hat compares chains (4 is the usual choice).
        num_results: draws kept per chain.
        num_burnin_steps: draws discarded per chain; the step size adapts during the first 80%.
        kernel: ``"nuts"`` (No-U-Turn sampler, picks the trajectory length itself) or ``"hmc"``
            (fixed ``num_leapfrog_steps``).
        step_size: initial leapfrog step size.
        num_leapfrog_steps: leapfrog steps per HMC proposal (HMC only).
        max_tree_depth: NUTS trajectories have at most ``2**max_tree_depth`` leapfrog steps.
        target_accept_prob: acceptance probability the step size is tuned to, in (0, 1).
        seed: integer seed in ``[0, 2**31)``; the same seed gives the same draws.
    """
    num_results = check_positive_int("num_results", num_results)
    num_burnin_steps = check_positive_int("num_burnin_steps", num_burnin_steps)
    kernel = check_choice("kernel", kernel, KERNELS)
    step_size = check_positive("step_size", step_size)
    num_leapfrog_steps = check_positive_int("num_leapfrog_steps", num_leapfrog_steps)
    max_tree_depth = check_positive_int("max_tree_depth", max_tree_depth)
    target_accept_prob = check_probability("target_accept_prob", target_accept_prob)
    seed = check_seed("seed", seed)
    check_callable("target_log_prob_fn", target_log_prob_fn)
    try:
        state = tf.convert_to_tensor(initial_state)
    except (TypeError, ValueError) as error:
        raise TypeError(f"initial_state must be a float tensor, got {type(initial_state).__name__}") from error
    if not state.dtype.is_floating:
        raise TypeError(f"initial_state must be a float tensor, got dtype {state.dtype.name}")
    as_array("initial_state", state.numpy(), state.dtype.as_numpy_dtype)  # finite and non-empty
    if state.shape.rank < 1 or state.shape[0] < 2:
        raise ValueError(
            "initial_state must have a leading chain dimension of size >= 2 (R-hat compares chains), "
            f"got shape {state.shape.as_list()}"
        )

    start_log_prob = target_log_prob_fn(state)
    if not np.all(np.isfinite(np.asarray(start_log_prob))):
        raise ValueError(
            "target_log_prob_fn is not finite at initial_state (NaN or -inf): start the chains where the density is > 0"
        )

    inner = _make_kernel(kernel, target_log_prob_fn, tf.constant(step_size, state.dtype),
                         num_leapfrog_steps, max_tree_depth)
    adaptive = tfp.mcmc.DualAveragingStepSizeAdaptation(
        inner,
        num_adaptation_steps=max(1, int(0.8 * num_burnin_steps)),
        target_accept_prob=tf.constant(target_accept_prob, state.dtype),
    )

    chain_kernel, unwrap = adaptive, lambda results: results
    if progress_enabled():  # one tqdm line over burn-in and draws, advanced from inside the compiled chain
        reducer = tfp.experimental.mcmc.ProgressBarReducer(num_burnin_steps + num_results, mcmc_progress_bar)
        chain_kernel = tfp.experimental.mcmc.WithReductions(adaptive, reducer)
        unwrap = lambda results: results.inner_results  # noqa: E731

    @tf.function(autograph=False)
    def sample(chain_seed):
        return tfp.mcmc.sample_chain(
            num_results,
            current_state=state,
            kernel=chain_kernel,
            num_burnin_steps=num_burnin_steps,
            trace_fn=lambda _, results: (unwrap(results).inner_results.log_accept_ratio, unwrap(results).new_step_size),
            seed=chain_seed,
        )

    start = time.perf_counter()
    samples, (log_accept_ratio, step_sizes) = sample(stateless_seed(seed))  # a stateless seed
    seconds = time.perf_counter() - start
    r_hat = tfp.mcmc.potential_scale_reduction(samples, independent_chain_ndims=1)
    with _quiet_tensorflow_logger():
        ess = tfp.mcmc.effective_sample_size(samples, filter_beyond_positive_pairs=True, cross_chain_dims=1)
    acceptance = tf.reduce_mean(tf.exp(tf.minimum(log_accept_ratio, 0.0)))
    return MCMCResult(
        samples=samples.numpy(),
        acceptance_rate=float(acceptance),
        step_size=float(step_sizes[-1]),
        r_hat=r_hat.numpy(),
        ess=ess.numpy(),
        seconds=seconds,
    )
