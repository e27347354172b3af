"""Every public layer and autoencoder of the library through the layer contract.

See ``tests/layer_contract.py`` for the checks; each (case, check) pair is one test.
"""

import numpy as np
import pytest

from keras_sparse_rect.inference import SparseRectifierStack
from keras_sparse_rect.layers import (
    BinaryFlipNoise,
    MaskingNoise,
    SaltAndPepperNoise,
    SignFlippedRectifier,
    SparseDense,
    UnitIntervalScaling,
)
from keras_sparse_rect.models import DenoisingAutoencoder, SparseInputDenoisingAutoencoder
from tests.helpers import to_numpy
from tests.layer_contract import CHECKS, LayerCase

_RNG = np.random.default_rng(0)
UNIFORM = _RNG.uniform(0.2, 0.8, (8, 6)).astype("float32")
NORMAL = _RNG.normal(size=(8, 6)).astype("float32")
BINARY = (_RNG.random((8, 6)) < 0.4).astype("float32")


def _adapt(layer, data):
    layer.adapt(data)


def _noise_case(name, make, data):
    """A corruption layer: no weights, noisy in training, the identity at inference."""
    return LayerCase(
        name,
        make,
        data,
        trainable_weights=0,
        training_changes_output=True,
        inference_is_identity=True,
    )


CASES = [
    _noise_case("masking_noise", lambda **kw: MaskingNoise(0.5, seed=1, **kw), UNIFORM),
    _noise_case(
        "salt_and_pepper_noise", lambda **kw: SaltAndPepperNoise(0.5, seed=1, **kw), UNIFORM
    ),
    _noise_case("binary_flip_noise", lambda **kw: BinaryFlipNoise(0.5, 0.3, seed=1, **kw), BINARY),
    LayerCase(
        "sign_flipped_rectifier",
        lambda **kw: SignFlippedRectifier(seed=1, **kw),
        NORMAL,
        trainable_weights=0,
        non_trainable_weights=1,
    ),
    LayerCase(
        "sparse_dense",
        lambda **kw: SparseDense(4, "rectifier", **kw),
        NORMAL,
        trainable_weights=2,
        non_trainable_weights=0,
    ),
    LayerCase(
        "unit_interval_scaling",
        lambda **kw: UnitIntervalScaling(**kw),
        NORMAL,
        setup=_adapt,
        trainable_weights=0,
        non_trainable_weights=1,
    ),
    LayerCase(
        "sparse_rectifier_stack",
        lambda **kw: SparseRectifierStack(
            [6, 5, 3], ["relu", "softmax"], [[2, 2]], batch_sizes=[8], **kw
        ),
        NORMAL,
        trainable_weights=0,
        non_trainable_weights=4,
    ),
    LayerCase(
        "denoising_autoencoder",
        lambda **kw: DenoisingAutoencoder(4, noise=0.5, seed=0, **kw),
        UNIFORM,
        trainable_weights=3,
        non_trainable_weights=1,
        training_changes_output=True,
        is_model=True,
    ),
    LayerCase(
        "denoising_autoencoder_scaled",
        lambda **kw: DenoisingAutoencoder(
            4,
            reconstruction="scaled_sigmoid_cross_entropy",
            tied=False,
            input_signs=[1, -1, 1, -1, 1, -1],
            noise=0.5,
            seed=0,
            **kw,
        ),
        NORMAL,
        setup=_adapt,
        trainable_weights=4,
        non_trainable_weights=2,
        training_changes_output=True,
        is_model=True,
    ),
    LayerCase(
        "sparse_input_denoising_autoencoder",
        lambda **kw: SparseInputDenoisingAutoencoder(4, seed=0, **kw),
        BINARY,
        setup=_adapt,
        trainable_weights=3,
        non_trainable_weights=0,
        training_changes_output=True,
        is_model=True,
    ),
]


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_layer_contract(case, check, tmp_path, request):
    if check in case.xfail:  # runs, and fails the suite once the bug is fixed (strict)
        request.applymarker(pytest.mark.xfail(reason=case.xfail[check], strict=True))
    if check == "saving":
        CHECKS[check](case, tmp_path)
    else:
        CHECKS[check](case)


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: MaskingNoise(0.1, seed=seed),
        lambda seed: SaltAndPepperNoise(0.1, seed=seed),
        lambda seed: BinaryFlipNoise(0.1, 0.1, seed=seed),
        lambda seed: SignFlippedRectifier(seed=seed),
    ],
    ids=["masking", "salt_and_pepper", "binary_flip", "sign_flipped_rectifier"],
)
def test_seeded_layers_take_every_valid_seed_and_refuse_a_huge_one_naming_seed(make):
    # Issue 33: a huge seed used to fail inside the backend ("Can't convert Python
    # sequence with out-of-range integer").
    layer = make(2**32 - 1)
    layer.build((None, 6))
    assert np.isfinite(to_numpy(layer(UNIFORM, training=True))).all()
    with pytest.raises(ValueError, match=r"`seed` .*got seed=99999999999999999999"):
        make(99999999999999999999)
