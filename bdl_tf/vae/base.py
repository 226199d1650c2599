"""What autoencoders and VAEs share: an encoder and a decoder network, their config, and the
latent-space tools built on two maps, ``embed`` (x -> one code z) and ``generate`` (z -> one image)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf._validation import as_array, check_positive_int, check_tf_keras_model

__all__ = ["EncoderDecoder"]

_BATCH = 1024  # examples per forward pass in the NumPy-facing helpers


def as_inputs(name, x, shape):
    """``x`` as a non-empty, finite float32 batch whose examples have ``shape``; one example gets
    a batch axis; tensors, symbolic Keras tensors and distributions (inside Keras' training loop, a
    posterior handed to ``decode``) pass unchanged."""
    if tf.is_tensor(x) or isinstance(x, tfp.distributions.Distribution) or hasattr(x, "_keras_history"):
        return x
    x = as_array(name, x, np.float32, min_ndim=0)
    if x.shape == tuple(shape):
        x = x[None]
    if x.shape[1:] != tuple(shape):
        raise ValueError(f"{name} must have shape (n, {', '.join(map(str, shape))}), got {x.shape}")
    return x


class EncoderDecoder(keras.Model):
    """A model made of ``encoder`` and ``decoder`` tf_keras networks (see :mod:`bdl_tf.vae.networks`).

    Subclasses define ``embed`` and ``generate``; this class turns them into reconstruction,
    interpolation and latent traversals, and saves/loads both networks through ``get_config``.
    A conditional model's networks take a second input, the condition c (a CVAE's one-hot label).
    """

    conditional = False

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        check_tf_keras_model(encoder, "encoder")
        check_tf_keras_model(decoder, "decoder")
        n_inputs = 2 if self.conditional else 1
        for name, network in (("encoder", encoder), ("decoder", decoder)):
            if len(network.inputs) != n_inputs:
                kind = "a conditional (inputs [x, c])" if self.conditional else "an unconditional (one input)"
                raise ValueError(
                    f"{type(self).__name__} needs {kind} {name}; it has {len(network.inputs)} input(s) "
                    "(build it with condition_dim=... for a conditional model, without it otherwise)"
                )
        code_size = encoder.outputs[0].shape[-1]
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        if code_size != self.latent_dim:
            raise ValueError(
                f"encoder output size ({code_size}) must equal the decoder's latent input size ({self.latent_dim})"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.input_example_shape = tuple(int(s) for s in encoder.inputs[0].shape[1:])
        self.output_example_shape = tuple(int(s) for s in decoder.outputs[0].shape[1:])
        self.built = True  # all weights live in the two (built) networks

    # -- conditioning ---------------------------------------------------------------------------
    def _condition(self, labels, batch_size):  # `labels`: used by the conditional subclass
        """The condition tensor for ``batch_size`` examples; unconditional models take no labels."""
        if labels is not None:
            raise ValueError(f"labels are only used by a conditional model; {type(self).__name__} takes none")
        return None

    @staticmethod
    def _network_inputs(main, condition):
        return main if condition is None else [main, condition]

    # -- the two maps subclasses define ---------------------------------------------------------
    def _embed_batch(self, x, condition):
        raise NotImplementedError

    def _generate_batch(self, z, condition):
        raise NotImplementedError

    def _batched(self, fn, inputs, labels):
        outputs = []
        for start in range(0, len(inputs), _BATCH):
            chunk = inputs[start : start + _BATCH]
            batch_labels = labels if labels is None or np.ndim(labels) == 0 else labels[start : start + _BATCH]
            outputs.append(np.asarray(fn(tf.constant(chunk), self._condition(batch_labels, len(chunk)))))
        return np.concatenate(outputs)

    def embed(self, x, labels=None):
        """One latent code per input, (n, latent_dim): the code (autoencoder) or the posterior mean (VAE)."""
        return self._batched(self._embed_batch, as_inputs("x", x, self.input_example_shape), labels)

    def generate(self, z, labels=None):
        """One image per latent code, (n, *image_shape): the decoder's image or the mean of p(x|z)."""
        return self._batched(self._generate_batch, as_inputs("z", z, (self.latent_dim,)), labels)

    # -- latent-space tools ---------------------------------------------------------------------
    def reconstruct(self, x, labels=None):
        """x -> z -> x~ through the codes of :meth:`embed`: the decoded image of each input."""
        return self.generate(self.embed(x, labels), labels)

    def interpolate(self, x_a, x_b, steps=8, labels=None):
        """Images decoded along the straight line z = (1 - t) z_a + t z_b, t = 0..1 in ``steps`` steps,
        between the codes of two inputs; returns (steps, *image_shape). A CVAE takes one label."""
        steps = check_positive_int("steps", steps)
        if steps < 2:
            raise ValueError(f"steps must be at least 2 (the two end points), got {steps}")
        z = self.embed(np.stack([as_inputs("x_a", x_a, self.input_example_shape)[0],
                                 as_inputs("x_b", x_b, self.input_example_shape)[0]]), labels)
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        return self.generate((1.0 - t) * z[0] + t * z[1], labels)

    def traverse(self, x, dims=None, values=(-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0), labels=None):
        """Latent traversal: start from the code of one input and set one latent dimension at a
        time to each of ``values``; returns (len(dims), len(values), *image_shape).

        ``dims`` defaults to every latent dimension; ``values`` are in latent units (for a VAE the
        prior is N(0, 1) per dimension, so -3..3 spans it). A CVAE takes one label.
        """
        dims = list(range(self.latent_dim)) if dims is None else list(np.atleast_1d(dims))
        for d in dims:
            if not isinstance(d, (int, np.integer)) or not 0 <= d < self.latent_dim:
                raise ValueError(f"dims must be integers in [0, {self.latent_dim}), got {d!r}")
        values = np.asarray(values, dtype=np.float32).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError("values must be a non-empty array of finite numbers")
        z0 = self.embed(as_inputs("x", x, self.input_example_shape)[:1], labels)[0]
        codes = np.repeat(z0[None, None], len(dims), axis=0).repeat(len(values), axis=1)
        for i, d in enumerate(dims):
            codes[i, :, d] = values
        images = self.generate(codes.reshape(-1, self.latent_dim), labels)
        return images.reshape(len(dims), len(values), *images.shape[1:])

    # -- saving ---------------------------------------------------------------------------------
    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
