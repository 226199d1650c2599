"""bdl_tf.inference.flat_network: a Dense network as a function of flat weight vectors, R-hat of functions."""
import numpy as np
import pytest
import tf_keras as keras

from bdl_tf.inference import flat_network, function_r_hat


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(5, activation="tanh"),
                             keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])


def test_each_chain_computes_what_the_keras_model_computes_with_its_weights(model):
    network = flat_network(model)
    assert network.size == model.count_params() == 2 * 5 + 5 + 5 * 3 + 3 + 3 * 2 + 2
    rng = np.random.default_rng(1)
    theta, x = rng.normal(size=(3, network.size)), rng.normal(size=(7, 2))
    outputs = network(theta, x).numpy()
    assert outputs.shape == (3, 7, 2)
    for chain in range(3):
        model.set_weights(network.weights(theta[chain]))
        np.testing.assert_allclose(outputs[chain], model(x).numpy(), rtol=1e-5, atol=1e-6)
        flat = np.concatenate([w.ravel() for w in model.get_weights()])
        np.testing.assert_allclose(flat, theta[chain], rtol=1e-6)  # get_weights order, float32 round trip


def test_swapping_two_hidden_units_gives_the_same_function(model):
    network = flat_network(model)
    theta = np.random.default_rng(2).normal(size=network.size)
    w1, b1, w2, b2, w3, b3 = network.weights(theta)
    order = [1, 0, 2, 3, 4]  # the first hidden layer's units 0 and 1 swapped
    swapped = np.concatenate([w.ravel() for w in (w1[:, order], b1[order], w2[order], b2, w3, b3)])
    x = np.random.default_rng(3).normal(size=(5, 2))
    assert not np.allclose(swapped, theta)
    np.testing.assert_allclose(network(swapped[None], x).numpy(), network(theta[None], x).numpy(), rtol=1e-12)


def test_function_r_hat_is_one_for_agreeing_chains_and_large_for_chains_apart():
    keras.utils.set_random_seed(0)
    linear = flat_network(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))  # f(x) = w x + b
    rng = np.random.default_rng(4)
    x = np.array([[-1.0], [0.0], [2.0]])
    agreeing = rng.normal(size=(2000, 4, 2))  # 4 chains of independent draws from one N(0, I)
    # R-hat - 1 of 4 x 2000 independent draws is O(1/2000): 1.01 is many standard errors away
    assert np.all(np.abs(function_r_hat(linear, agreeing, x) - 1) < 0.01)
    apart = agreeing + np.arange(4)[None, :, None] * 3.0  # chain c centred at (3c, 3c): between >> within
    assert np.all(function_r_hat(linear, apart, x)[1:] > 2)
    # the function at x = -1 is w - b: the offsets cancel there, and its R-hat stays ~1
    assert abs(function_r_hat(linear, apart, x)[0, 0] - 1) < 0.01
