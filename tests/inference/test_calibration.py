"""Calibration: capacities from measured activity, their arguments, choosing by timing."""

import numpy as np
import pytest

from keras_sparse_rect import inference
from tests.helpers import save_and_reload, to_numpy
from tests.inference.networks import ATOL, varied_network


def test_rejects_bad_arguments(digits):
    model = varied_network()
    with pytest.raises(ValueError, match="dense_fraction=2"):
        inference.sparse_inference_model(model, digits[:10], dense_fraction=2)
    with pytest.raises(ValueError, match="calibration_data=None"):
        inference.sparse_inference_model(model, None)
    with pytest.raises(ValueError, match="capacities"):
        inference.sparse_inference_model(model, None, capacities=[8, 8])
    with pytest.raises(ValueError, match="coverage=0"):
        inference.sparse_inference_model(model, digits[:10], coverage=0)
    with pytest.raises(ValueError, match="batch_sizes=\\[True\\]"):
        inference.sparse_inference_model(model, digits[:10], batch_sizes=[True])
    with pytest.raises(ValueError, match="calibration_data of shape"):
        inference.sparse_inference_model(model, digits[:10, :100])


def test_one_capacity_for_every_step(digits):
    """The per-layer rule: one value (or a one-item list) stands for every step."""
    model = varied_network()
    for capacities in (8, [8]):
        sparse_model = inference.sparse_inference_model(
            model, None, capacities=capacities, dense_fraction=1.0
        )
        assert sparse_model.layers[-1].plan(1) == [8, 8, None]


def test_capacity_table_holds_the_quantile_with_headroom():
    mask = np.zeros((100, 200), bool)
    mask[:, :30] = True  # every example: 30 active inputs
    mask[0, :150] = True  # one busy example
    assert inference.capacity_table([mask], (1,), headroom=0.0, coverage=0.5) == [[32]]
    assert inference.capacity_table([mask], (1,), headroom=0.1, coverage=1.0) == [[168]]
    assert inference.capacity_table([mask], (1,), headroom=1.0, coverage=1.0) == [[200]]


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"active_masks": [np.zeros(5, bool)]}, "active_masks\\[0\\]"),
        ({"active_masks": [np.zeros((0, 5), bool)]}, "active_masks\\[0\\]"),
        ({"headroom": -0.1}, "headroom=-0.1"),
        ({"coverage": 0}, "coverage=0"),
        ({"batch_sizes": [0]}, "batch_sizes=\\[0\\]"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_capacity_table_rejects_bad_arguments(kwargs, needle):
    arguments = {"active_masks": [np.ones((4, 5), bool)], **kwargs}
    with pytest.raises(ValueError, match=needle):
        inference.capacity_table(**arguments)


def test_choose_by_timing_keeps_gathering_only_where_it_is_faster(digits, tmp_path):
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200], dense_fraction=1.0)
    layer = sparse_model.layers[-1]
    gathered_at_2 = layer.plan(2)
    # No plan can be 1e9 x faster than dense: batch 1 turns dense, batch 2 is left alone.
    report = inference.choose_by_timing(
        sparse_model, digits[:40], batch_sizes=[1], margin=1e9, repeats=1, calls=2
    )
    assert set(report) == {1} and report[1]["kept"] is False
    assert report[1]["sparse"] > 0 and report[1]["dense"] > 0
    assert layer.plan(1) == [None, None, None] and layer.plan(2) == gathered_at_2
    restored = save_and_reload(sparse_model, tmp_path)
    assert restored.layers[-1].plan(1) == [None, None, None]  # the choice saves with the model
    forward = inference.compile_forward(sparse_model)
    np.testing.assert_allclose(
        to_numpy(forward(digits[300:301])), model.predict(digits[300:301], verbose=0), atol=ATOL
    )
    # margin=1: kept exactly when the gathered forward measured at least as fast.
    report = inference.choose_by_timing(sparse_model, digits[:40], batch_sizes=[2], margin=1.0)
    assert report[2]["kept"] == (report[2]["sparse"] <= report[2]["dense"])
    # A batch size that is already dense has nothing to decide.
    assert inference.choose_by_timing(sparse_model, digits[:40], batch_sizes=[1]) == {}


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"margin": 0.5}, "margin=0.5"),
        ({"margin": True}, "margin=True"),
        ({"repeats": 0}, "repeats"),
        ({"calls": 0}, "calls"),
        ({"batch_sizes": [64]}, "at least 64 examples"),
        ({"batch_sizes": []}, "`batch_sizes` must be one or more ints"),
    ],
)
def test_choose_by_timing_rejects_bad_arguments(digits, kwargs, needle):
    sparse_model = inference.sparse_inference_model(varied_network(), digits[:200])
    with pytest.raises(ValueError, match=needle):
        inference.choose_by_timing(sparse_model, digits[:40], **kwargs)
