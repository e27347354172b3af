import numpy as np
import pytest
import scipy.sparse as sp

from keras_sparse_rect.layers import BinaryFlipNoise
from keras_sparse_rect.sparse import csr_to_backend, sparse_parts
from tests.helpers import assert_config_round_trip, to_numpy

ROWS, TERMS = 400, 2000


def binary(density=0.01, seed=0):
    x = sp.random(ROWS, TERMS, density=density, format="csr", random_state=seed, dtype="float32")
    x.data[:] = 1.0
    return x


def densify(sparse_output):
    indices, values = (to_numpy(a) for a in sparse_parts(sparse_output))
    dense = np.zeros((ROWS, TERMS), "float32")
    np.add.at(dense, (indices[:, 0], indices[:, 1]), values)
    return dense


def check_rates(x, y, pepper, salt):
    ones, zeros = x == 1, x == 0
    assert set(np.unique(y)) <= {0.0, 1.0}
    # ~8,000 ones and ~792,000 zeros: the tolerances are > 6 binomial sigmas.
    assert abs(y[ones].mean() - (1 - pepper)) < 0.035
    assert abs(y[zeros].mean() - salt) < 0.0006


@pytest.mark.parametrize("input_kind", ["dense", "sparse"])
def test_each_direction_flips_at_its_own_rate(input_kind):
    x = binary()
    layer = BinaryFlipNoise(pepper_rate=0.8, salt_rate=0.005, seed=3)
    if input_kind == "dense":
        y = to_numpy(layer(x.toarray(), training=True))
    else:
        y = densify(layer(csr_to_backend(x), training=True))
    check_rates(x.toarray(), y, 0.8, 0.005)


def test_sparse_output_layout():
    x = binary(density=0.005)
    layer = BinaryFlipNoise(pepper_rate=0.5, salt_rate=0.01, seed=1)
    indices, values = (to_numpy(a) for a in sparse_parts(layer(csr_to_backend(x), training=True)))
    slots = layer.salt_slots(TERMS)
    stored = to_numpy(sparse_parts(csr_to_backend(x))[0]).shape[0]
    assert indices.shape[0] == stored + ROWS * slots  # a fixed number of entries
    salt = indices[stored:][values[stored:] == 1]
    # Salt lands on zeros only, and at distinct positions.
    assert not np.any(x.toarray()[salt[:, 0], salt[:, 1]])
    assert len({tuple(p) for p in salt}) == len(salt)
    assert slots == int(np.ceil(TERMS * 0.01 + 6 * np.sqrt(TERMS * 0.01 * 0.99)) + 1)


def test_identity_when_not_training_and_config():
    x = binary()
    layer = BinaryFlipNoise(0.3, 0.01, seed=0)
    dense = x.toarray()
    np.testing.assert_array_equal(to_numpy(layer(dense)), dense)
    assert layer(csr_to_backend(x), training=False) is not None
    restored = assert_config_round_trip(layer)
    assert (restored.pepper_rate, restored.salt_rate, restored.seed) == (0.3, 0.01, 0)


def test_same_seed_same_noise():
    dense = binary().toarray()
    a = to_numpy(BinaryFlipNoise(0.5, 0.01, seed=4)(dense, training=True))
    b = to_numpy(BinaryFlipNoise(0.5, 0.01, seed=4)(dense, training=True))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"pepper_rate": -0.1, "salt_rate": 0.0}, "pepper_rate"),
        ({"pepper_rate": 1.5, "salt_rate": 0.0}, "pepper_rate"),
        ({"pepper_rate": 0.5, "salt_rate": 1.0}, "salt_rate"),
        ({"pepper_rate": 0.5, "salt_rate": "x"}, "salt_rate"),
        ({"pepper_rate": 0.5, "salt_rate": 0.1, "seed": -1}, "seed"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BinaryFlipNoise(**kwargs)
