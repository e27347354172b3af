"""Each layer's autoencoder: reconstruction strategies, sparse input (sections 4.1, 4.2)."""

import keras
import numpy as np
import pytest

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
from keras_sparse_rect.layers import SaltAndPepperNoise
from keras_sparse_rect.models import (
    DenoisingAutoencoder,
    build_deep_network,
    compile_for_paper,
)
from tests.callbacks.pretraining.common import digits, small_network
from tests.helpers import to_numpy


def test_scaled_strategy_copies_the_folded_encoder():
    x, _ = digits()
    model = small_network(units=(32, 32))
    pretraining = GreedyLayerwisePretraining(
        x[:500], epochs=1, reconstruction="scaled_sigmoid_cross_entropy", seed=0
    )
    pretraining.set_model(model)
    pretraining.on_train_begin()
    probe = keras.Model(model.input, [model.get_layer(f"hidden_{k}").output for k in (1, 2)])
    h1, h2 = (to_numpy(h) for h in probe(x[:500]))
    np.testing.assert_allclose(
        to_numpy(pretraining.autoencoders[0].encode(x[:500])), h1, rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        to_numpy(pretraining.autoencoders[1].encode(h1)), h2, rtol=1e-4, atol=1e-4
    )


def test_cross_entropy_needs_inputs_in_range():
    x, _ = digits()
    rectifiers = small_network(units=(16, 16))
    bad = GreedyLayerwisePretraining(
        x[:100] * 3.0, epochs=1, reconstruction="sigmoid_cross_entropy"
    )
    bad.set_model(rectifiers)
    with pytest.raises(ValueError, match="sigmoid_cross_entropy.*hidden layer 1"):
        bad.on_train_begin()
    negative = GreedyLayerwisePretraining(
        x[:100] - 0.5, epochs=1, reconstruction="scaled_sigmoid_cross_entropy"
    )
    negative.set_model(rectifiers)
    with pytest.raises(ValueError, match="one sign per unit"):
        negative.on_train_begin()


def test_sparse_bag_of_words_with_the_text_setting():
    """Section 4.2: binary sparse input, salt-and-pepper noise on the first layer, masking
    noise above, scaled rectifier activations with a sigmoid cross-entropy."""
    import scipy.sparse

    x = scipy.sparse.random(300, 200, density=0.05, format="csr", random_state=0, dtype="float32")
    x.data[:] = 1.0
    y = np.random.default_rng(0).integers(0, 5, 300)
    model = build_deep_network((200,), 5, hidden_units=(32, 32), sparse=True, seed=0)
    compile_for_paper(model, learning_rate=0.05)
    pretraining = GreedyLayerwisePretraining(
        x,
        epochs=2,
        learning_rate=0.01,
        noise=[SaltAndPepperNoise(0.1, seed=0), 0.3],
        reconstruction="scaled_sigmoid_cross_entropy",
        l1=[1e-4, 0.0],
    )
    # (Few labeled batches: on JAX each sparse batch with a new number of non-zeros compiles.)
    history = model.fit(x[:20], y[:20], batch_size=10, epochs=1, verbose=0, callbacks=[pretraining])
    for layer in (1, 2):
        curve = history.history[f"pretrain/layer_{layer}/reconstruction"]
        assert curve[-1] < curve[0]


def test_a_sparse_first_layer_is_pretrained_on_the_sparse_input_in_the_same_call():
    """Section 4.2: the sentiment stack (sparse layer 1, dense layers above) in one call."""
    import scipy.sparse

    from keras_sparse_rect.layers import BinaryFlipNoise
    from keras_sparse_rect.models import SparseInputDenoisingAutoencoder

    x = scipy.sparse.random(300, 200, density=0.05, format="csr", random_state=0, dtype="float32")
    x.data[:] = 1.0
    model = build_deep_network(
        (200,), 5, hidden_units=(24, 24), sign_flip=False, l1=(1e-4, 0.0), sparse=True, seed=0
    )
    pretraining = GreedyLayerwisePretraining(
        x,
        epochs=2,
        learning_rate=[0.01, 0.001],
        noise=[BinaryFlipNoise(0.8, 0.005, seed=0), 0.3],
        reconstruction=["auto", "scaled_sigmoid_cross_entropy"],
        sampled_zeros=16,
        seed=0,
    )
    history = pretraining.pretrain(model)
    first, second = pretraining.autoencoders
    assert isinstance(first, SparseInputDenoisingAutoencoder)
    assert (first.pepper_rate, first.salt_rate, first.l1) == (0.8, 0.005, 1e-4)
    assert first.reconstruction_sampling and first.sampled_zeros == 16
    assert isinstance(second, DenoisingAutoencoder) and second.l1 == 0.0
    np.testing.assert_allclose(
        to_numpy(model.get_layer("hidden_1_dense").kernel), first.encoder_weights()[0]
    )
    for layer in (1, 2):
        assert len(history[f"pretrain/layer_{layer}/reconstruction"]) == 2
        assert 0.0 <= pretraining.dead_fractions[layer] <= 1.0
