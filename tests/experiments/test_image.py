"""The image experiment's reporting of collapsed pretraining and of the paper's selection."""

import json

import pytest

from keras_sparse_rect.data import load_image_dataset
from keras_sparse_rect.experiments.image import (
    ImageExperimentConfig,
    run_image_experiment,
    summary,
)


def tiny(tiny_mnist, tmp_path, **fields):
    base = dict(
        dataset=tiny_mnist,
        hidden_units=(16, 16),
        batch_size=50,
        epochs=1,
        pretrain_epochs=1,
        model_dir=str(tmp_path),
    )
    return ImageExperimentConfig(**{**base, **fields})


@pytest.mark.tensorflow_only
def test_a_collapsed_pretraining_is_in_the_result_and_the_summary(tiny_mnist, tmp_path):
    # An L1 penalty of 5 drives the pretrained layers' units to zero on every digit.
    config = tiny(tiny_mnist, tmp_path, l1=5.0, pretrain_learning_rate=0.05)
    data = load_image_dataset(tiny_mnist)
    with pytest.warns(UserWarning, match="collapsed"):
        result = run_image_experiment(config, data=data, verbose=0)
    assert result["status"] == "collapsed" and result["collapsed"]
    assert "hidden_1" in result["pretraining"]["collapsed_layers"]
    assert result["pretraining"]["dead_fraction_per_layer"]["hidden_1"] > 0.5
    assert "WARNING: pretraining collapsed hidden_1" in summary(result)
    written = json.loads((tmp_path / "result.json").read_text())
    assert written["status"] == "collapsed"
    assert "pretrain/layer_1/dead_fraction" in written["history"]


@pytest.mark.tensorflow_only
def test_protocol_paper_selects_rates_and_keeps_them_for_a_resumed_run(tiny_mnist, tmp_path):
    config = tiny(tiny_mnist, tmp_path, protocol="paper", selection_epochs=1, epochs=4, patience=1)
    data = load_image_dataset(tiny_mnist)
    result = run_image_experiment(config, data=data, verbose=0)
    selection = result["selection"]
    assert selection["learning_rate"] in (0.1, 0.01, 0.001, 0.0001)
    # Successive halving: 4 candidates 1 epoch, the better 2 two more, the winner kept.
    rounds = selection["validation_error_per_round"]
    assert sorted(len(v) for v in rounds.values()) == [1, 1, 2, 2]
    finalists = [rate for rate, errors in rounds.items() if len(errors) == 2]
    winner = f"{selection['learning_rate']:g}"
    assert winner in finalists
    assert rounds[winner][-1] == min(rounds[r][-1] for r in finalists)
    first_round = sorted(rounds, key=lambda r: rounds[r][0])
    assert set(finalists) == set(first_round[:2]) or len(set(v[0] for v in rounds.values())) < 4
    assert selection["trained_epochs"] == 3
    assert selection["best_epoch"] >= 1
    rates = result["pretraining"]["learning_rate_per_layer"]
    assert len(rates) == 2 and all(r in (0.1, 0.01, 0.001, 0.0001) for r in rates)
    saved = json.loads((tmp_path / "selection.json").read_text())
    assert saved["learning_rate"] == selection["learning_rate"]


def test_protocol_is_validated():
    with pytest.raises(ValueError, match="protocol"):
        ImageExperimentConfig(protocol="mine").validate()
