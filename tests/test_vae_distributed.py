"""VAE and MC-dropout training under tf.distribute.MirroredStrategy on two logical CPU devices.

Logical devices must be configured before TensorFlow initialises its devices, so the check runs in
a fresh Python process. It trains the same initial model on the same full batch once on one device
and once mirrored over two, and compares the weight updates: with correct loss scaling the
mirrored update equals the single-device one up to sampling noise (ratio of norms ~ 1); if each
replica's loss were not divided by the number of replicas, the summed gradients would double it.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent(
    """
    import json, os, warnings
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    warnings.filterwarnings("ignore")
    import tf_keras as keras
    from bdl_tf import set_seed
    from bdl_tf.layers import MCDropout
    from bdl_tf.vae import VAE, dense_decoder, dense_encoder

    x = (np.random.default_rng(0).random((512, 16)) < 0.3).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    def vae():
        model = VAE(dense_encoder((16,), 2, (32,)), dense_decoder(2, (16,), (32,)))
        model.compile(keras.optimizers.SGD(0.01))
        return model, (x,)

    def mc_dropout():
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"),
                                  MCDropout(0.1), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.01), "mse")
        return model, (x, y)

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    report = {"replicas": strategy.num_replicas_in_sync}
    for name, make in (("vae", vae), ("mc_dropout", mc_dropout)):
        set_seed(1)
        single, data = make()
        start = [w.numpy() for w in single.trainable_weights]
        single.fit(*data, batch_size=512, epochs=1, shuffle=False, verbose=0)
        with strategy.scope():
            set_seed(1)
            mirrored, _ = make()
            for w, value in zip(mirrored.trainable_weights, start):
                w.assign(value)
        mirrored.fit(*data, batch_size=512, epochs=1, shuffle=False, verbose=0)
        step = lambda m: np.concatenate([(w.numpy() - s).ravel() for w, s in zip(m.trainable_weights, start)])
        a, b = step(single), step(mirrored)
        history = mirrored.fit(*data, batch_size=64, epochs=2, verbose=0).history
        report[name] = {"ratio": float(np.linalg.norm(b) / np.linalg.norm(a)),
                        "cosine": float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)),
                        "loss": history["loss"]}
    print("REPORT " + json.dumps(report))
    """
)


def test_training_under_mirrored_strategy_on_two_logical_cpus():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT "):])
    assert report["replicas"] == 2
    for name in ("vae", "mc_dropout"):
        run = report[name]
        # Same direction and size as the one-device step (measured: ratio 1.00, cosine > 0.999);
        # a missing 1/replicas would give a ratio of 2.
        assert 0.8 < run["ratio"] < 1.25, (name, run)
        assert run["cosine"] > 0.95, (name, run)
        assert all(np.isfinite(run["loss"])) and run["loss"][-1] < run["loss"][0], (name, run)

