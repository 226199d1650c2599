"""The mask samplers that benchmarks/mask_samplers.py times are real dropout: each keeps units with its own
keep probability q (binomial counts) and scales the kept ones by 1/q, so its timing compares like with like."""
import numpy as np
import pytest
import tensorflow as tf
from mask_samplers import SAMPLERS, _threshold


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_each_sampler_keeps_binomially_and_scales_by_one_over_q(name, rate):
    bits = 8 if name.startswith("8-bit") else 16
    _, keep = _threshold(rate, bits)
    out = SAMPLERS[name](tf.ones((256, 512)), rate).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1.0 / keep, rtol=1e-6)
    n = out.size
    assert abs(kept.sum() - n * keep) < 5 * np.sqrt(n * keep * (1 - keep))  # Binomial(n, q) within 5 sd
    assert not np.array_equal(kept, SAMPLERS[name](tf.ones((256, 512)), rate).numpy() != 0)  # fresh masks per call
