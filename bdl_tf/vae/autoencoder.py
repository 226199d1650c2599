"""Deterministic autoencoder: x -> z = f(x) -> x~ = g(z), trained to reconstruct its input.

The code z is a point, not a distribution: there is no prior to sample from, which is what the
VAE adds (lecture slides 32-35).
"""
from __future__ import annotations

import tensorflow_probability as tfp
import tf_keras as keras

from bdl_tf.vae.base import EncoderDecoder

tfpl = tfp.layers

__all__ = ["Autoencoder"]


@keras.saving.register_keras_serializable(package="bdl_tf")
class Autoencoder(EncoderDecoder):
    """Autoencoder from a deterministic encoder (``posterior=None``) and decoder (``likelihood=None``).

    A plain Keras model: compile it with a reconstruction loss and fit it on (x, x)::

        ae = Autoencoder(conv_encoder((28, 28, 1), 16, posterior=None),
                         conv_decoder(16, (28, 28, 1), likelihood=None))
        ae.compile("adam", loss="binary_crossentropy")   # pixels in [0, 1], sigmoid output
        ae.fit(x, x, epochs=5)
        codes, images = ae.embed(x), ae.reconstruct(x)
    """

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        for name, network in (("encoder", encoder), ("decoder", decoder)):
            if isinstance(network.layers[-1], tfpl.DistributionLambda):
                raise TypeError(
                    f"{name} ends in a distribution layer: an Autoencoder needs deterministic networks "
                    "(posterior=None, likelihood=None); use bdl_tf.vae.VAE for probabilistic ones"
                )

    def call(self, inputs):
        """The reconstruction g(f(x))."""
        return self.decoder(self.encoder(inputs))

    def _embed_batch(self, x, condition):
        return self.encoder(x)

    def _generate_batch(self, z, condition):
        return self.decoder(z)
