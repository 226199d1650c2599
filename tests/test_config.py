"""The quick-mode switch and seeding."""
import numpy as np
import pytest

import bdl_tf


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)])
def test_quick_mode_reads_the_environment(monkeypatch, value, quick):
    monkeypatch.setenv("BDL_TF_QUICK", value)
    assert bdl_tf.quick_mode() is quick
    assert bdl_tf.by_mode("small", "big") == ("small" if quick else "big")
    assert ("quick mode" if quick else "full mode") in bdl_tf.runtime_summary()


def test_set_seed_reproduces_numpy_and_tensorflow():
    import tensorflow as tf

    bdl_tf.set_seed(5)
    a = (np.random.rand(), float(tf.random.uniform(())))
    bdl_tf.set_seed(5)
    assert (np.random.rand(), float(tf.random.uniform(()))) == a
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*31\)"):
        bdl_tf.set_seed(-1)
