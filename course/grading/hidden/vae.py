"""Answer key of exercise 07 (VAE): TFP bijectors, distributions and reduce_logmeanexp as references;
mistakes and hidden cases."""
import numpy as np

from course.checks.cases import case, mask, wave
from course.grading.answer_key import Answer, Mistake, ModelAnswer


def reparameterize(mean, log_variance, eps):
    import tensorflow_probability as tfp

    tfb = tfp.bijectors
    return tfb.Chain([tfb.Shift(mean), tfb.Scale(np.exp(0.5 * log_variance))]).forward(eps).numpy()


def kl(mean, log_variance):
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    posterior = tfd.MultivariateNormalDiag(loc=mean, scale_diag=np.exp(0.5 * log_variance))
    prior = tfd.MultivariateNormalDiag(loc=np.zeros_like(mean), scale_diag=np.ones_like(mean))
    return tfd.kl_divergence(posterior, prior).numpy()


def _log_likelihood(x, logits):
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    images = tfd.Independent(tfd.Bernoulli(logits=logits, dtype=np.float64), reinterpreted_batch_ndims=np.ndim(x) - 1)
    return images.log_prob(x).numpy()


def elbo(x, logits, mean, log_variance):
    return _log_likelihood(x, logits) - kl(mean, log_variance)


def iwae(log_weights):
    import tensorflow_probability as tfp

    return tfp.math.reduce_logmeanexp(log_weights, axis=0).numpy()


ANSWERS = {
    "vae.reparameterize": Answer(
        reparameterize,
        mistakes=(
            ("scale eps by the standard deviation exp(log_variance / 2), not by the variance exp(log_variance)",
             lambda mu, lv, eps: mu + np.exp(lv) * eps),
            ("log_variance is a logarithm: the standard deviation is exp(log_variance / 2)",
             lambda mu, lv, eps: mu + lv * eps),
            ("the standard deviation is exp(log_variance / 2): halve the log variance before exponentiating, don't halve the result",
             lambda mu, lv, eps: mu + 0.5 * np.exp(lv) * eps),
        ),
        hidden=(
            case(mean=wave(2, 3, phase=1.2), log_variance=wave(2, 3, phase=2.2, scale=3.0), eps=wave(2, 3, phase=0.2)),
            case(mean=np.zeros((1, 4)), log_variance=np.array([[-2.0, 0.0, 2.0, 4.0]]), eps=np.ones((1, 4))),
        ),
    ),
    "vae.kl": Answer(
        kl,
        mistakes=(
            ("wrong sign: KL(q || p) >= 0; it is 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2)",
             lambda mu, lv: -kl(mu, lv)),
            ("sum over the latent dimensions (the last axis); don't average", lambda mu, lv: kl(mu, lv) / mu.shape[-1]),
            ("sigma^2 is exp(log_variance); you used the standard deviation exp(log_variance / 2)",
             lambda mu, lv: 0.5 * np.sum(mu**2 + np.exp(0.5 * lv) - 1.0 - lv, axis=-1)),
            ("the - 1 inside the sum is missing: 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2)",
             lambda mu, lv: 0.5 * np.sum(mu**2 + np.exp(lv) - lv, axis=-1)),
        ),
        hidden=(
            case(mean=wave(5, 3, phase=2.6), log_variance=wave(5, 3, phase=0.6, scale=3.0)),
            case(mean=np.zeros((2, 2)), log_variance=np.zeros((2, 2))),
            case(mean=np.array([[1.0, -2.0, 0.5]]), log_variance=np.array([[-1.0, 0.5, 2.0]])),
        ),
    ),
    "vae.elbo": Answer(
        elbo,
        mistakes=(
            ("the ELBO subtracts the KL: E_q[log p(x|z)] - KL(q(z|x) || p(z))",
             lambda x, l, mu, lv: _log_likelihood(x, l) + kl(mu, lv)),
            ("that is the VAE loss, the negative ELBO; return the bound itself",
             lambda x, l, mu, lv: -elbo(x, l, mu, lv)),
            ("sum the log-likelihood over the pixels; don't average",
             lambda x, l, mu, lv: _log_likelihood(x, l) / np.prod(np.shape(x)[1:]) - kl(mu, lv)),
        ),
        hidden=(
            case(x=mask(4, 5, phase=2.1), logits=wave(4, 5, phase=1.6, scale=4.0),
                 mean=wave(4, 3, phase=0.3), log_variance=wave(4, 3, phase=2.3)),
            case(x=mask(1, 2, 2, 2, phase=0.5), logits=wave(1, 2, 2, 2, phase=0.9, scale=2.0),
                 mean=wave(1, 6, phase=1.1), log_variance=wave(1, 6, phase=2.8, scale=2.0)),
        ),
    ),
    "vae.iwae": Answer(
        iwae,
        mistakes=(
            ("you averaged the log-weights: that is the ELBO; the importance-weighted bound averages the weights "
             "inside the log, log (1/K) sum_k w_k", lambda lw: np.mean(lw, axis=0)),
            ("the 1/K is missing: subtract log K from the log-sum-exp", lambda lw: iwae(lw) + np.log(lw.shape[0])),
            ("exp(log w) underflows to 0 for log w near -1000 (log 0 = -inf): use the log-sum-exp trick",
             lambda lw: np.log(np.mean(np.exp(lw), axis=0))),
            ("average over the K samples (axis 0), one bound per example", lambda lw: iwae(lw.T)),
        ),
        hidden=(
            case(log_weights=wave(20, 4, phase=2.0, scale=10.0, offset=-50.0)),
            case(log_weights=wave(3, 1, phase=0.4, scale=0.5, offset=-2000.0)),
        ),
    ),
    "vae.train": ModelAnswer(hidden_seed=3, mistakes=(
        Mistake("no KL term in the loss: a plain autoencoder with noise",
                ((", activity_regularizer=tfpl.KLDivergenceRegularizer(prior, use_exact_kl=True)", ""),), ("elbo",)),
        Mistake("no reparameterisation: z is sampled with its gradient stopped, so the encoder learns nothing from the reconstruction",
                (("tfpl.IndependentNormal(latent_dim, ", "tfpl.IndependentNormal(latent_dim, convert_to_tensor_fn=lambda q: tf.stop_gradient(q.sample()), "),
                 ("import tensorflow_probability as tfp\n", "import tensorflow as tf\nimport tensorflow_probability as tfp\n")), ("elbo",)),
        Mistake("a sigmoid applied to the decoder's logits before the Bernoulli layer, which expects logits",
                (("keras.layers.Dense(64),", 'keras.layers.Dense(64, activation="sigmoid"),'),), ("elbo",)),
    )),
}
