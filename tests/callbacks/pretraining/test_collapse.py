"""Dead units after pretraining and the collapse policy (section 3.1)."""

import pickle

import keras
import numpy as np
import pytest

from keras_sparse_rect.callbacks import (
    CollapsePolicy,
    GreedyLayerwisePretraining,
    PretrainingCollapseError,
)
from keras_sparse_rect.models import (
    compile_for_paper,
)
from tests.callbacks.pretraining.common import digits, small_network
from tests.helpers import assert_config_round_trip, to_numpy


def test_dead_fraction_of_each_layer_is_logged_and_healthy_layers_pass():
    x, _ = digits()
    model = small_network()
    pretraining = GreedyLayerwisePretraining(x[:1000], epochs=1, batch_size=50, seed=0)
    history = pretraining.pretrain(model)
    for layer in (1, 2):
        (dead,) = history[f"pretrain/layer_{layer}/dead_fraction"]
        assert dead == pretraining.dead_fractions[layer]
        assert 0.0 <= dead <= 0.5
    assert pretraining.collapsed_layers == []


def test_a_collapsing_configuration_is_detected_warned_and_raised():
    """An L1 penalty this strong drives every unit of layer 1 to zero on every digit."""
    x, _ = digits()
    collapsing = dict(epochs=2, batch_size=20, l1=[5.0, 0.0], learning_rate=0.05, seed=0)
    pretraining = GreedyLayerwisePretraining(x[:1000], **collapsing)
    with pytest.warns(UserWarning, match=r"hidden layer 1 collapsed: \d+ of its 32 units"):
        history = pretraining.pretrain(small_network())
    assert pretraining.collapsed_layers[0] == 1
    assert history["pretrain/layer_1/dead_fraction"][0] > 0.5
    # The count is the network layer's own: its units are exactly 0 on these digits.
    probe = keras.Model(pretraining.model.inputs, pretraining.model.get_layer("hidden_1").output)
    active = np.any(to_numpy(probe(x[:1000])) != 0, axis=0)
    assert 1.0 - active.mean() >= history["pretrain/layer_1/dead_fraction"][0] - 1e-9
    strict = GreedyLayerwisePretraining(
        x[:1000], collapse=CollapsePolicy(action="raise"), **collapsing
    )
    with pytest.raises(PretrainingCollapseError, match="hidden layer 1 collapsed") as raised:
        strict.pretrain(small_network())
    error = raised.value
    assert (error.layer, error.learning_rate, error.diverged) == (1, 0.05, False)
    assert error.dead_fraction == strict.dead_fractions[1] > 0.5
    assert strict.collapsed_layers == [1]


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"collapse_threshold": 1.5}, "`collapse_threshold`"),
        ({"on_collapse": "explode"}, "`on_collapse`"),
        ({"dead_unit_sample": 0}, "`dead_unit_sample`"),
        ({"on_collapse": "raise", "collapse": CollapsePolicy()}, "not both"),
    ],
)
def test_the_deprecated_collapse_keywords_are_validated_under_their_names(kwargs, needle):
    x, _ = digits()
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=needle):
        GreedyLayerwisePretraining(x[:10], **kwargs)


def test_the_collapse_policy_round_trips_and_validates_its_fields():
    policy = CollapsePolicy(threshold=0.25, action="raise", sample=500)
    assert assert_config_round_trip(policy) == policy
    assert CollapsePolicy() == CollapsePolicy(0.5, "warn", 10_000)
    for kwargs, needle in [
        ({"threshold": 1.5}, "`threshold`"),
        ({"threshold": "half"}, "`threshold`"),
        ({"action": "explode"}, "`action`"),
        ({"sample": 0}, "`sample`"),
    ]:
        with pytest.raises(ValueError, match=needle):
            CollapsePolicy(**kwargs)
    serialized = keras.saving.serialize_keras_object(policy)
    assert serialized["registered_name"] == "keras_sparse_rect>CollapsePolicy"
    pretraining = GreedyLayerwisePretraining(digits()[0][:10], collapse=serialized)
    assert pretraining.collapse == policy


def test_the_policy_decides_from_the_dead_fraction_and_the_costs():
    with pytest.warns(UserWarning, match="hidden layer 2 collapsed: 6 of its 10 units"):
        assert CollapsePolicy().check(2, 10, 0.6, [1.0, 0.5], 0.01)
    assert not CollapsePolicy().check(2, 10, 0.5, [1.0, 0.5], 0.01)
    assert CollapsePolicy(action="ignore").check(1, 10, 0.0, [1.0, float("nan")], 0.1)
    with pytest.raises(PretrainingCollapseError, match="diverged") as raised:
        CollapsePolicy().check(3, 10, 0.0, [1.0, float("inf")], 0.1)
    assert (raised.value.layer, raised.value.learning_rate, raised.value.diverged) == (3, 0.1, True)


def test_the_error_keeps_its_fields_and_message_through_pickling():
    error = PretrainingCollapseError(
        "hidden layer 2 ...", layer=2, learning_rate=0.01, diverged=True, dead_fraction=0.0
    )
    restored = pickle.loads(pickle.dumps(error))
    assert isinstance(restored, RuntimeError) and str(restored) == "hidden layer 2 ..."
    assert (restored.layer, restored.learning_rate, restored.diverged) == (2, 0.01, True)


def test_a_diverged_layer_stops_pretraining_naming_the_pretraining_rate():
    x, y = digits()
    model = small_network(units=(16, 16))
    compile_for_paper(model, learning_rate=0.01)
    pretraining = GreedyLayerwisePretraining(x[:200], epochs=1, learning_rate=1e30, seed=0)
    with pytest.raises(
        PretrainingCollapseError, match=r"diverged.*pretraining learning_rate=1e\+30"
    ) as raised:
        model.fit(x[:20], y[:20], batch_size=10, verbose=0, callbacks=[pretraining])
    assert pretraining.collapsed_layers == [1]
    assert (raised.value.layer, raised.value.learning_rate, raised.value.diverged) == (
        1,
        1e30,
        True,
    )
