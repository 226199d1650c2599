"""A small Keras network as a function of one flat weight vector per chain, for MCMC on its weights.

:func:`run_mcmc` samples a vector ``theta`` in R^D per chain; a Keras network keeps its weights as
a list of kernels and biases. :func:`flat_network` reads that layout from a ``Sequential`` of
``Dense`` layers (``model.get_weights()`` order: kernel, bias, kernel, bias, ...) and gives
``f(x; theta)`` for all chains at once, ``h_0 = x``, ``h_l = act_l(h_{l-1} W_l + b_l)``, so that a
log joint ``sum_n log p(y_n | f(x_n; theta)) + log p(theta)`` is one line. Since a network's weights
are not identified (swapping two hidden units gives the same function), convergence is judged on the
functions: :func:`function_r_hat` is R-hat of ``f(x)`` at each input across the chains.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from bdl_tf._validation import as_array, check_tf_keras_model

__all__ = ["FlatNetwork", "flat_network", "function_r_hat"]


@dataclass(frozen=True)
class FlatNetwork:
    """``f(x; theta)`` of a Dense network for a batch of flat weight vectors: see :func:`flat_network`.

    Attributes:
        shapes: the shape of each weight array, in ``model.get_weights()`` order.
        activations: the activation of each layer (one per kernel/bias pair).
    """

    shapes: tuple
    activations: tuple

    @property
    def sizes(self) -> list[int]:
        """The number of entries of each weight array."""
        return [int(np.prod(shape)) for shape in self.shapes]

    @property
    def size(self) -> int:
        """D, the length of one flat weight vector."""
        return sum(self.sizes)

    def unflatten(self, theta) -> list[tf.Tensor]:
        """``[chains, D]`` -> the weight arrays, each with a leading chain axis ``[chains, *shape]``."""
        theta = tf.convert_to_tensor(theta)
        if theta.shape.rank != 2 or theta.shape[-1] != self.size:
            raise ValueError(f"theta must have shape (chains, {self.size}), one flat weight vector per chain, "
                             f"got shape {tuple(theta.shape)}")
        return [tf.reshape(part, [-1, *shape]) for part, shape in zip(tf.split(theta, self.sizes, axis=-1), self.shapes)]

    def __call__(self, theta, x) -> tf.Tensor:
        """``f(x; theta)`` for every chain: ``[chains, D]``, ``[n, inputs]`` -> ``[chains, n, outputs]``."""
        weights = self.unflatten(theta)
        x = tf.convert_to_tensor(x, dtype=weights[0].dtype)
        inputs = self.shapes[0][0]
        if x.shape.rank != 2 or x.shape[-1] != inputs:
            raise ValueError(f"x must have shape (n, {inputs}), the network's inputs, got shape {tuple(x.shape)}")
        hidden = None  # [chains, n, units] after the first layer; x itself is shared by the chains
        for kernel, bias, activation in zip(weights[::2], weights[1::2], self.activations):
            product = tf.einsum("ni,cio->cno", x, kernel) if hidden is None else tf.einsum("cni,cio->cno", hidden, kernel)
            hidden = activation(product + bias[:, None, :])
        return hidden

    def weights(self, theta) -> list[np.ndarray]:
        """One flat vector ``(D,)`` as the list ``model.set_weights`` takes."""
        theta = as_array("theta", theta, shape=(self.size,))
        return [w[0].numpy() for w in self.unflatten(theta[None])]


def flat_network(model) -> FlatNetwork:
    """The layout of a built ``Sequential`` of ``Dense`` layers (with biases) as a :class:`FlatNetwork`."""
    check_tf_keras_model(model)
    import tf_keras as keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not model.built or not layers:
        raise ValueError("model must be a built network of Dense layers (give it a keras.Input), got one without weights")
    for layer in layers:
        if type(layer) is not keras.layers.Dense or not layer.use_bias:
            raise ValueError(f"model must be made of Dense layers with biases only, got layer {layer.name!r} "
                             f"({type(layer).__name__}{'' if type(layer) is not keras.layers.Dense else ' without a bias'})")
    return FlatNetwork(tuple(tuple(w.shape) for w in model.get_weights()), tuple(layer.activation for layer in layers))


def function_r_hat(network: FlatNetwork, samples, x) -> np.ndarray:
    """R-hat of each function value ``f(x)[n, k]`` across chains, from draws ``[draws, chains, D]``.

    The potential scale reduction (Gelman-Rubin) of the sampled functions: ``~1`` when the chains
    agree on what the network computes, whatever permutation of its units each chain sits in.
    """
    samples = as_array("samples", samples, min_ndim=3)
    if samples.ndim != 3 or samples.shape[1] < 2 or samples.shape[0] < 2:
        raise ValueError(f"samples must have shape (draws, chains, D) with at least 2 draws and 2 chains, "
                         f"got shape {samples.shape}")
    x = as_array("x", x, min_ndim=2)
    by_chain = np.stack([network(samples[:, chain], x).numpy() for chain in range(samples.shape[1])], axis=1)
    return tfp.mcmc.potential_scale_reduction(by_chain, independent_chain_ndims=1).numpy()
