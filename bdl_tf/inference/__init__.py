"""Inference: exact posteriors (ground truth), MCMC with tfp.mcmc (and Dense networks as functions of flat
weight vectors for it), mean-field variational inference."""
from bdl_tf.inference.conjugate import (
    LinearRegressionPosterior,
    bayesian_linear_regression,
    beta_binomial_map,
    beta_binomial_posterior,
    beta_binomial_predictive,
    binomial_mle,
    linear_regression_log_joint,
)
from bdl_tf.inference.flat_network import FlatNetwork, flat_network, function_r_hat
from bdl_tf.inference.grid import grid_posterior
from bdl_tf.inference.mcmc import MCMCResult, run_mcmc
from bdl_tf.inference.variational import (
    dense_flipout,
    dense_variational,
    make_posterior_fn,
    make_prior_fn,
    weight_posterior,
)

__all__ = [
    "FlatNetwork",
    "LinearRegressionPosterior",
    "MCMCResult",
    "bayesian_linear_regression",
    "beta_binomial_map",
    "beta_binomial_posterior",
    "beta_binomial_predictive",
    "binomial_mle",
    "dense_flipout",
    "dense_variational",
    "flat_network",
    "function_r_hat",
    "grid_posterior",
    "linear_regression_log_joint",
    "make_posterior_fn",
    "make_prior_fn",
    "run_mcmc",
    "weight_posterior",
]
