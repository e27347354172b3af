import numpy as np
import pytest

from keras_sparse_rect.layers import UnitIntervalScaling
from tests.helpers import assert_config_round_trip, save_and_reload, to_numpy


def test_per_unit_maximum_scaling():
    h = np.array([[0.0, 2.0, -3.0, 0.0], [4.0, 1.0, -1.5, 0.0]], "float32")
    layer = UnitIntervalScaling()
    layer.adapt(h)
    np.testing.assert_allclose(to_numpy(layer.scale), [4.0, 2.0, 3.0, 0.0])
    y = to_numpy(layer(h))
    np.testing.assert_allclose(y, [[0.0, 1.0, 1.0, 0.0], [1.0, 0.5, 0.5, 0.0]])


def test_values_above_training_maximum_are_clipped():
    layer = UnitIntervalScaling()
    layer.adapt(np.array([[1.0, 2.0]], "float32"))
    y = to_numpy(layer(np.array([[5.0, 1.0]], "float32")))
    np.testing.assert_allclose(y, [[1.0, 0.5]])
    assert y.min() >= 0 and y.max() <= 1


def test_adapt_from_batches_equals_adapt_from_array():
    h = np.abs(np.random.default_rng(0).normal(size=(100, 6))).astype("float32")
    a, b = UnitIntervalScaling(), UnitIntervalScaling()
    a.adapt(h, batch_size=7)
    b.adapt([(h[:50], None), (h[50:], None)])
    np.testing.assert_allclose(to_numpy(a.scale), to_numpy(b.scale))


def test_scale_is_saved(tmp_path):
    import keras

    inputs = keras.Input((3,))
    layer = UnitIntervalScaling(name="scale")
    model = keras.Model(inputs, layer(inputs))
    layer.adapt(np.array([[1.0, 2.0, 4.0]], "float32"))
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(to_numpy(reloaded.get_layer("scale").scale), [1.0, 2.0, 4.0])
    assert trainable_count(reloaded) == 0
    x = np.array([[0.5, 1.0, 8.0]], "float32")
    np.testing.assert_allclose(to_numpy(reloaded(x)), [[0.5, 0.5, 1.0]])  # loaded: adapted
    weights = tmp_path / "scale.weights.h5"
    model.save_weights(weights)
    fresh = keras.Model(inputs, UnitIntervalScaling(name="scale")(inputs))
    fresh.load_weights(weights)
    np.testing.assert_allclose(to_numpy(fresh(x)), [[0.5, 0.5, 1.0]])


def trainable_count(model):
    return len(model.trainable_weights)


def test_errors():
    with pytest.raises(ValueError, match="empty"):
        UnitIntervalScaling().adapt([])
    layer = UnitIntervalScaling()
    layer.build((None, 3))
    with pytest.raises(ValueError, match="3"):
        layer.adapt(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="rank"):
        UnitIntervalScaling()(np.ones((3,), "float32"))
    assert_config_round_trip(UnitIntervalScaling(name="u"))


def test_call_before_adapt_raises_instead_of_passing_values_through():
    import keras

    layer = UnitIntervalScaling(name="scaling")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layer(inputs))  # building symbolically needs no adapt
    with pytest.raises(ValueError, match=r"UnitIntervalScaling 'scaling' is called before adapt"):
        model(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="before adapt"):
        UnitIntervalScaling()(np.ones((2, 3), "float32"))
    layer.adapt(np.full((1, 3), 2.0, "float32"))
    np.testing.assert_allclose(to_numpy(model(np.ones((2, 3), "float32"))), 0.5)


def test_adapted_layer_trains_under_jit():
    import keras

    inputs = keras.Input((3,))
    layer = UnitIntervalScaling()
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    layer.adapt(x)
    model.compile("sgd", "mse", jit_compile=True)
    history = model.fit(x, np.zeros((8, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_adapt_refuses_nan_and_inf_naming_the_first_index():
    h = np.ones((10, 4), "float32")
    h[6, 2] = np.nan
    h[8, 0] = np.inf
    message = r"`data` must be finite; UnitIntervalScaling\.adapt found nan at index \(6, 2\)"
    with pytest.raises(ValueError, match=message):
        UnitIntervalScaling().adapt(h)
    with pytest.raises(ValueError, match=message):
        UnitIntervalScaling().adapt(h, batch_size=4)  # rows counted across batches
    with pytest.raises(ValueError, match=message):
        UnitIntervalScaling().adapt([(h[:5], None), (h[5:], None)])
    h[6, 2] = 0.0
    with pytest.raises(ValueError, match=r"found inf at index \(8, 0\)"):
        UnitIntervalScaling().adapt(h, batch_size=3)
    layer = UnitIntervalScaling()
    with pytest.raises(ValueError, match="finite"):
        layer.adapt(-h)
    assert not layer._adapted  # nothing was set


def test_adapt_refuses_nan_in_scipy_sparse_input():
    import scipy.sparse

    h = scipy.sparse.csr_matrix(np.eye(5, dtype="float32"))
    h.data[3] = np.nan
    with pytest.raises(ValueError, match=r"found nan at index \(3, 3\)"):
        UnitIntervalScaling().adapt(h, batch_size=2)


def test_a_scale_given_by_set_weights_counts_as_adapted():
    # clone_model + set_weights used to raise "called before adapt" on the clone.
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, UnitIntervalScaling(name="scaling")(inputs))
    model.get_layer("scaling").adapt(np.array([[1.0, 2.0, 4.0]], "float32"))
    clone = keras.models.clone_model(model)
    assert not clone.get_layer("scaling").adapted  # built, scale not set yet
    clone.set_weights(model.get_weights())
    assert clone.get_layer("scaling").adapted
    x = np.full((2, 3), 2.0, "float32")
    np.testing.assert_allclose(to_numpy(clone(x)), [[1.0, 1.0, 0.5]] * 2)
    np.testing.assert_allclose(clone.predict(x, verbose=0), [[1.0, 1.0, 0.5]] * 2)


def test_a_saved_unadapted_layer_still_refuses_to_run_after_loading(tmp_path):
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, UnitIntervalScaling(name="scaling")(inputs))
    model.save(tmp_path / "unadapted.keras")
    reloaded = keras.saving.load_model(tmp_path / "unadapted.keras")
    assert not reloaded.get_layer("scaling").adapted
    with pytest.raises(ValueError, match="before adapt"):
        reloaded(np.ones((1, 3), "float32"))
