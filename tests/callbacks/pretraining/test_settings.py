"""Per-layer settings: one value, a one-item list, or one per hidden layer."""

import keras
import numpy as np
import pytest

from keras_sparse_rect.callbacks import CollapsePolicy, GreedyLayerwisePretraining
from keras_sparse_rect.layers import SaltAndPepperNoise
from keras_sparse_rect.models import (
    hidden_weights,
)
from tests.callbacks.pretraining.common import digits, small_network
from tests.helpers import to_numpy


def test_per_layer_settings():
    x, _ = digits()
    model = small_network(units=(16, 16, 16))
    initial = hidden_weights(model)
    pretraining = GreedyLayerwisePretraining(
        x[:200],
        epochs=[1, 0, 1],
        learning_rate=(0.01, 0.001, 0.001),
        noise=[SaltAndPepperNoise(0.1, seed=1), 0.5, None],
        batch_size=[10, 10, 20],
        l1=[1e-4, 0.0, 0.0],
        tied=[True, True, False],
    )
    history = pretraining.pretrain(model)  # now, without fit
    assert history is pretraining.history and "pretrain/layer_3/loss" in history
    first, skipped, third = pretraining.autoencoders
    assert skipped is None
    np.testing.assert_array_equal(hidden_weights(model)[1][0], initial[1][0])  # epochs 0
    assert isinstance(first.corruption, SaltAndPepperNoise) and first.l1 == 1e-4
    assert third.corruption is None and not third.tied
    assert float(to_numpy(third.optimizer.learning_rate)) == pytest.approx(0.001)
    assert "pretrain/layer_2/reconstruction" not in pretraining.history
    assert pretraining.completed_layers == 3
    pretrained = hidden_weights(model)
    pretraining.pretrain(model)  # once only
    np.testing.assert_array_equal(hidden_weights(model)[2][0], pretrained[2][0])
    with pytest.raises(ValueError, match="`model`"):
        pretraining.pretrain("model")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"epochs": -1}, "epochs"),
        ({"epochs": [1, 2, "3"]}, r"epochs\[2\]"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"noise": 1.5}, "noise"),
        ({"reconstruction": "mse"}, "reconstruction"),
        ({"batch_size": 0}, "batch_size"),
        ({"l1": -1.0}, "l1"),
        ({"tied": "yes"}, "tied"),
        ({"steps_per_execution": 0}, "steps_per_execution"),
        ({"max_cache_bytes": "1GB"}, "max_cache_bytes"),
        ({"max_cache_bytes": -1}, "max_cache_bytes"),
        ({"verbose": 3}, "verbose"),
        ({"seed": -1}, "seed"),
        ({"epochs": []}, "epochs"),
        ({"sampled_zeros": 0}, "sampled_zeros"),
        ({"reconstruction_sampling": 1}, "reconstruction_sampling"),
        ({"sign_consistent": "yes"}, "sign_consistent"),
        ({"rate_selection": [0.1]}, "rate_selection"),
        ({"collapse": "raise"}, "collapse"),
        ({"checkpoint_dir": 3}, "checkpoint_dir"),
    ],
)
def test_invalid_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        GreedyLayerwisePretraining(digits()[0][:10], **kwargs)


def test_settings_must_match_the_number_of_hidden_layers_and_their_names():
    x, y = digits()
    pretraining = GreedyLayerwisePretraining(x[:100], epochs=[1, 1, 1])
    pretraining.set_model(small_network(units=(16, 16)))
    with pytest.raises(
        ValueError, match=r"`epochs` must be one value or one per hidden layer \(2\)"
    ):
        pretraining.on_train_begin()
    with pytest.raises(ValueError, match="unlabeled"):
        GreedyLayerwisePretraining(None)
    inputs = keras.Input((784,))
    other = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Dense(8)(inputs)))
    pretraining = GreedyLayerwisePretraining(x[:100])
    pretraining.set_model(other)
    with pytest.raises(ValueError, match="hidden_1_dense"):
        pretraining.on_train_begin()


def test_a_one_item_list_holds_for_every_layer_as_the_flags_do():
    """Issue 30: ``noise=[0.25]`` on a 3-layer network raised; ``--noise=0.25`` was accepted."""
    x, _ = digits()
    pretraining = GreedyLayerwisePretraining(
        x[:100],
        epochs=[1],
        learning_rate=[0.01],
        noise=[0.25],
        tied=[False],
        collapse=CollapsePolicy(action="ignore"),  # 8 units: some may die
        seed=0,
    )
    pretraining.pretrain(small_network(units=(8, 8, 8)))
    assert pretraining.completed_layers == 3
    for dae in pretraining.autoencoders:
        assert dae.corruption.rate == 0.25 and not dae.tied
    assert pretraining.learning_rates == {1: 0.01, 2: 0.01, 3: 0.01}


def test_layer_settings_expand_by_the_one_per_layer_rule():
    from keras_sparse_rect.callbacks.pretraining.settings import LayerSettings

    settings = LayerSettings([2, 0], 0.01, 0.25, "auto", [20], None, True)
    expanded = settings.expand(2)
    assert [s["epochs"] for s in expanded] == [2, 0]
    assert [s["batch_size"] for s in expanded] == [20, 20]
    assert [s["l1"] for s in expanded] == [None, None]
    with pytest.raises(ValueError, match="`epochs`"):
        settings.expand(3)
