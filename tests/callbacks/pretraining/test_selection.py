"""Choosing each layer's learning rate (section 4.1)."""

import keras
import pytest

from keras_sparse_rect.callbacks import CollapsePolicy, GreedyLayerwisePretraining, RateSelection
from keras_sparse_rect.names import PAPER_LEARNING_RATES
from tests.callbacks.pretraining.common import digits, small_network
from tests.helpers import assert_config_round_trip


@pytest.mark.slow
def test_select_learning_rate_picks_the_lowest_held_out_reconstruction_per_layer():
    x, _ = digits()
    candidates = (1.0, 0.01, 1e-6)
    pretraining = GreedyLayerwisePretraining(
        x[:1500],
        epochs=1,
        batch_size=20,
        rate_selection=RateSelection(candidates, examples=800),
        seed=0,
    )
    history = pretraining.pretrain(small_network())
    for layer in (1, 2):
        costs = {
            rate: history[f"pretrain/layer_{layer}/selection/{rate:g}"][0] for rate in candidates
        }
        (chosen,) = history[f"pretrain/layer_{layer}/learning_rate"]
        # The lowest cost among the rates that do not collapse the layer.
        assert all(costs[chosen] <= costs[r] for r in candidates if r != 1.0)
        # A rate of 1e-6 barely moves the weights: a sensible rate beats it.
        assert costs[0.01] < costs[1e-6]
    assert pretraining.collapsed_layers == []
    assert len(history["pretrain/layer_1/reconstruction"]) == 1  # then trained fully


def _scripted_dead_fractions(monkeypatch, full, trial=None, full_rows=1500):
    """Replaces the dead-unit count by ``{rate: fraction}`` for full trainings (``data`` of
    ``full_rows`` rows) and for trials (other rows); the training itself stays real."""
    from keras_sparse_rect.callbacks.pretraining import collapse as module

    def fake(dae, data, sample, seed):
        rate = round(float(keras.ops.convert_to_numpy(dae.optimizer.learning_rate)), 8)
        table = full if data.shape[0] == full_rows else (trial or {})
        return table.get(rate, 0.0)

    monkeypatch.setattr(module, "dead_fraction", fake)


def _selection(x, eligible_dead_fraction=0.1):
    selection = RateSelection(
        (0.05, 0.01, 0.001), examples=800, eligible_dead_fraction=eligible_dead_fraction
    )
    pretraining = GreedyLayerwisePretraining(
        x[:1500], epochs=1, batch_size=20, rate_selection=selection, seed=0
    )
    history = pretraining.pretrain(small_network())
    costs = {r: history[f"pretrain/layer_1/selection/{r:g}"][0] for r in (0.05, 0.01, 0.001)}
    ranked = sorted(costs, key=lambda r: (costs[r], -r))
    return pretraining, history, ranked


@pytest.mark.slow
def test_a_rate_that_kills_units_in_full_training_gives_way_to_the_next_best(monkeypatch):
    """The seed-1 failure on full MNIST: the trial's winner left 29.8% of layer 2 dead in
    full training, under the collapse threshold; it must not be kept."""
    x, _ = digits()
    _scripted_dead_fractions(monkeypatch, full={0.05: 0.3, 0.01: 0.3, 0.001: 0.0})
    pretraining, history, ranked = _selection(x)
    assert ranked[0] != 0.001  # a short trial favours the larger rates on digits
    for layer in (1, 2):
        assert history[f"pretrain/layer_{layer}/learning_rate"] == [0.001]
        assert history[f"pretrain/layer_{layer}/dead_fraction"] == [0.0]
    for rate in ranked[: ranked.index(0.001)]:
        assert history[f"pretrain/layer_1/rejected/{rate:g}"] == [0.3]
    assert "pretrain/layer_1/rejected/0.001" not in history
    assert pretraining.collapsed_layers == []
    # The old rule (only the collapse threshold) keeps the trial's winner.
    _, loose, ranked = _selection(x, eligible_dead_fraction=0.5)
    assert loose["pretrain/layer_1/learning_rate"] == [ranked[0]]
    assert loose["pretrain/layer_1/dead_fraction"] == [0.3]


@pytest.mark.slow
def test_when_every_rate_kills_units_the_fewest_dead_is_kept(monkeypatch):
    x, _ = digits()
    full = {0.05: 0.3, 0.01: 0.2, 0.001: 0.4}
    _scripted_dead_fractions(monkeypatch, full=full)
    pretraining, history, _ = _selection(x)
    assert history["pretrain/layer_1/learning_rate"] == [0.01]
    assert history["pretrain/layer_1/dead_fraction"] == [0.2]
    assert history["pretrain/layer_1/rejected/0.05"] == [0.3]
    assert history["pretrain/layer_1/rejected/0.001"] == [0.4]
    assert "pretrain/layer_1/rejected/0.01" not in history
    assert pretraining.dead_fractions == {1: 0.2, 2: 0.2}
    assert pretraining.collapsed_layers == []  # 20% is under the collapse threshold


@pytest.mark.slow
def test_a_trial_that_kills_units_ranks_its_rate_after_the_others(monkeypatch):
    x, _ = digits()
    _, _, ranked = _selection(x)  # the real costs, every unit alive in the trials
    _scripted_dead_fractions(monkeypatch, full={}, trial={ranked[0]: 0.3})
    _, history, _ = _selection(x)
    assert history["pretrain/layer_1/learning_rate"] == [ranked[1]]
    assert not any("/rejected/" in key for key in history)


def test_the_selection_line_names_candidates_that_were_not_eligible():
    from keras_sparse_rect.callbacks.pretraining.selection import selection_line as _selection_line

    costs = {0.1: float("inf"), 0.01: 25.5, 0.001: 60.2}
    dead = {0.1: 1.0, 0.01: 0.757, 0.001: 0.0}
    line = _selection_line(2, [0.001], costs, dead, 0.5)
    assert line.startswith("Hidden layer 2: pretraining learning rate 0.001 has the lowest")
    assert "0.1: inf (diverged)" in line
    assert "0.01: 25.5 (76% of the units dead: not eligible)" in line
    assert "0.001: 60.2)" in line
    tried_last = _selection_line(2, [0.001, 0.01], costs, {**dead, 0.01: 0.3}, 0.5, 0.1)
    assert "0.01: 25.5 (30% of the units dead: tried last)" in tried_last
    assert "of the candidates that leave the layer alive" in tried_last
    none_alive = _selection_line(1, [0.001], {0.01: 3.0, 0.001: 4.0}, {0.01: 1, 0.001: 1}, 0.5)
    assert "is the smallest candidate (none left the layer alive)" in none_alive


# The settings object, and the keywords it replaces ------------------------------------


def test_rate_selection_round_trips_and_validates_its_fields():
    selection = RateSelection([0.1, 0.01], examples=500, epochs=2, eligible_dead_fraction=0.2)
    restored = assert_config_round_trip(selection)
    assert restored == selection and restored.candidates == (0.1, 0.01)
    assert RateSelection().candidates == PAPER_LEARNING_RATES
    for kwargs, needle in [
        ({"candidates": 0.1}, "`candidates`"),
        ({"candidates": []}, "`candidates`"),
        ({"candidates": [0.1, -1]}, r"`candidates\[1\]`"),
        ({"examples": 0}, "`examples`"),
        ({"epochs": True}, "`epochs`"),
        ({"eligible_dead_fraction": 1.5}, "`eligible_dead_fraction`"),
    ]:
        with pytest.raises(ValueError, match=needle):
            RateSelection(**kwargs)


def test_the_first_attempt_under_the_bound_is_kept_else_the_fewest_dead():
    from keras_sparse_rect.callbacks.pretraining.selection import Attempt, train_first_eligible

    class Result:
        history = {"reconstruction": [1.0]}

    def trainer(dead):
        return lambda rate: Attempt(f"dae {rate}", Result(), dead[rate], rate)

    kept, rejected = train_first_eligible(trainer({0.1: 0.4, 0.01: 0.05, 0.001: 0.0}),
                                          [0.1, 0.01, 0.001], 0.1, layer=1)  # fmt: skip
    assert kept.learning_rate == 0.01 and rejected == {0.1: 0.4}
    kept, rejected = train_first_eligible(trainer({0.1: 0.4, 0.01: 0.3}), [0.1, 0.01], 0.1, 1)
    assert kept.learning_rate == 0.01 and rejected == {0.1: 0.4}


def _tiny(x, **kwargs):
    keras.utils.set_random_seed(0)  # fit's shuffling draws from the global seed
    pretraining = GreedyLayerwisePretraining(x[:300], epochs=1, batch_size=20, seed=0, **kwargs)
    history = pretraining.pretrain(small_network(units=(8, 8)))
    return pretraining, history


@pytest.mark.once("jax")  # argument plumbing, the same on every backend
def test_the_deprecated_keywords_warn_and_behave_as_the_settings_objects():
    x, _ = digits()
    with pytest.warns(DeprecationWarning, match="select_learning_rate.*rate_selection="):
        old, old_history = _tiny(
            x,
            select_learning_rate=(0.01, 0.001),
            selection_examples=100,
            selection_epochs=2,
            eligible_dead_fraction=0.2,
            collapse_threshold=0.6,
            on_collapse="ignore",
            dead_unit_sample=50,
        )
    new, new_history = _tiny(
        x,
        rate_selection={"candidates": [0.01, 0.001], "examples": 100, "epochs": 2,
                        "eligible_dead_fraction": 0.2},
        collapse=CollapsePolicy(threshold=0.6, action="ignore", sample=50),
    )  # fmt: skip
    assert old.rate_selection == new.rate_selection
    assert old.collapse == new.collapse
    assert old_history == new_history
    assert "pretrain/layer_2/selection/0.001" in new_history


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"select_learning_rate": 0.1}, "`select_learning_rate`"),
        ({"select_learning_rate": [0.1, -1]}, r"`select_learning_rate\[1\]`"),
        ({"selection_examples": 0}, "`selection_examples`"),
        ({"selection_epochs": 0}, "`selection_epochs`"),
        ({"eligible_dead_fraction": -0.1}, "`eligible_dead_fraction`"),
        ({"eligible_dead_fraction": "low"}, "`eligible_dead_fraction`"),
        ({"select_learning_rate": [0.1], "rate_selection": RateSelection()}, "not both"),
    ],
)
def test_the_deprecated_selection_keywords_are_validated_under_their_names(kwargs, needle):
    x, _ = digits()
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=needle):
        GreedyLayerwisePretraining(x[:10], **kwargs)


def test_an_unknown_keyword_is_a_type_error_as_before():
    with pytest.raises(TypeError, match="'selection_rounds'"):
        GreedyLayerwisePretraining(digits()[0][:10], selection_rounds=3)
