"""The search space: choices, defaults, stages, parsing, checks (tuning.space)."""

import keras_tuner
import pytest

from keras_sparse_rect import tuning
from keras_sparse_rect.tuning.space import SearchSpace, format_rates


def test_default_choices_and_values_follow_the_paper():
    assert tuning.SEARCH_SPACE["learning_rate"] == (0.1, 0.01, 0.001, 0.0001)
    assert tuning.SEARCH_SPACE["pretrain_learning_rate"] == (0.1, 0.01, 0.001, 0.0001)
    assert tuning.LEARNING_RATES == tuning.SEARCH_SPACE["learning_rate"]
    assert tuning.DEFAULT_VALUES["l1"] == 0.001 and tuning.DEFAULT_VALUES["noise"] == 0.25


def test_search_space_from_strings():
    assert tuning.parse_search_space(["hidden_units=500,1000", "activation=tanh"]) == {
        "hidden_units": (500, 1000),
        "activation": ("tanh",),
    }
    for text, needle in [
        ("momentum=0.9", "NAME=V1,V2"),
        ("learning_rate=fast", "must be floats"),
        ("learning_rate=0.1,", "NAME=V1,V2"),
        ("noise=1.5", r"choices\[noise\]=1.5"),
    ]:
        with pytest.raises(ValueError, match=needle):
            tuning.parse_search_space([text])


def test_each_stage_tunes_its_names_and_fixes_the_others():
    assert SearchSpace("pretrain").tune == ("pretrain_learning_rate", "l1")
    assert SearchSpace("finetune").tune == ("learning_rate", "noise")
    assert SearchSpace("joint").tune == tuple(tuning.SEARCH_SPACE)
    assert SearchSpace("joint", pretraining=False).tune == (
        "l1",
        "learning_rate",
        "activation",
        "hidden_layers",
        "hidden_units",
    )
    assert SearchSpace("pretrain").objective.name == "pretrain/reconstruction"
    assert SearchSpace("finetune").objective.direction == "min"
    space = SearchSpace(
        "finetune",
        search_space={"learning_rate": [0.1, 0.01]},
        fixed={"hidden_units": 16, "tuner/epochs": 3},  # KerasTuner's own entries: ignored
    )
    assert space.values_of("learning_rate") == (0.1, 0.01)
    assert space.values_of("hidden_units") == (16,)
    hp = keras_tuner.HyperParameters()
    values = space.declare(hp)
    assert values["learning_rate"] == 0.1 and values["hidden_units"] == 16
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds["learning_rate"] == "Choice" and kinds["hidden_units"] == "Fixed"
    hp = keras_tuner.HyperParameters()
    assert "l1" not in space.declare(hp, skip=("l1",)) and "l1" not in hp.values


def test_without_keeps_the_fixed_value_and_leaves_the_original():
    space = SearchSpace("finetune")
    narrower = space.without("noise")
    assert narrower.tune == ("learning_rate",) and space.tune == ("learning_rate", "noise")
    assert narrower.values_of("noise") == (tuning.DEFAULT_VALUES["noise"],)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"stage": "both"}, "stage='both'"),
        ({"tune": ["momentum"]}, "tune=['momentum']"),
        ({"search_space": {"learning_rate": [0.1, 0.1]}}, "repeated values"),
        ({"fixed": {"noise": 1.0}}, "noise=1.0"),
    ],
)
def test_bad_space_arguments_name_the_argument(kwargs, needle):
    with pytest.raises(ValueError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        SearchSpace(**kwargs)


def test_rates_are_written_per_layer():
    assert format_rates(0.01) == "0.01"
    assert format_rates((0.005, 0.001, 0.001)) == "0.005/0.001/0.001"
