import keras
import numpy as np
import pytest

from keras_sparse_rect.callbacks import DeadUnitMonitor, SparsityMonitor


def _model():
    inputs = keras.Input((4,))
    h1 = keras.layers.Dense(3, activation="relu", name="h1", kernel_initializer="ones")(inputs)
    h2 = keras.layers.Dense(2, activation="relu", name="h2", kernel_initializer="ones")(h1)
    outputs = keras.layers.Dense(2, activation="softmax")(h2)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    return model


X = np.abs(np.random.default_rng(0).normal(size=(20, 4))).astype("float32")
Y = np.zeros(20, "int32")


def test_dead_units_and_sparsity_reach_history():
    model = _model()
    # Kill unit 1 of h1 and unit 0 of h2 by giving them a very negative bias.
    model.get_layer("h1").bias.assign(np.array([0.0, -1e3, 0.0], "float32"))
    model.get_layer("h2").bias.assign(np.array([-1e3, 0.0], "float32"))
    dead = DeadUnitMonitor(X, batch_size=7)
    history = model.fit(X, Y, epochs=2, verbose=0, callbacks=[dead, SparsityMonitor(X)])
    assert history.history["dead_units/h1"] == [1, 1]
    assert history.history["dead_units/h2"] == [1, 1]
    assert history.history["dead_units"] == [2, 2]
    np.testing.assert_array_equal(dead.dead_units["h1"], [1])
    assert history.history["sparsity/h1"][0] == pytest.approx(1 / 3)
    assert history.history["sparsity/h2"][0] == pytest.approx(1 / 2)
    assert history.history["sparsity"][0] == pytest.approx((1 / 3 + 1 / 2) / 2)


def test_every_and_argument_checks():
    model = _model()
    history = model.fit(X, Y, epochs=2, verbose=0, callbacks=[SparsityMonitor(X, every=2)])
    assert len(history.history["sparsity"]) == 1
    with pytest.raises(ValueError, match="data"):
        DeadUnitMonitor(None)
    with pytest.raises(ValueError, match="batch_size"):
        DeadUnitMonitor(X, batch_size=0)
    with pytest.raises(ValueError, match="every"):
        SparsityMonitor(X, every=0)


def test_sparsity_is_each_passes_own_not_accumulated():
    model = _model()
    monitor = SparsityMonitor(X, batch_size=7)
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[monitor])
    assert monitor.compute()["sparsity/h1"] == pytest.approx(0.0)  # ones kernel, positive X
    model.get_layer("h1").bias.assign(np.full(3, -1e3, "float32"))  # now every unit is off
    second = monitor.compute()
    assert second["sparsity/h1"] == 1.0 and second["sparsity/h2"] == 1.0


def test_validation_error_reaches_history_and_keeps_the_last_error():
    from keras_sparse_rect.callbacks import ValidationError

    model = _model()
    model.compile(
        keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    callback = ValidationError()
    history = model.fit(X, Y, epochs=2, verbose=0, validation_data=(X, Y), callbacks=[callback])
    accuracy = history.history["val_accuracy"]
    assert history.history["val_error"] == pytest.approx([1 - a for a in accuracy])
    assert callback.error == pytest.approx(1 - accuracy[-1])


def test_validation_error_is_inf_without_val_accuracy_or_after_divergence():
    from keras_sparse_rect.callbacks import ValidationError

    callback = ValidationError()
    logs = {"loss": 0.5}
    callback.on_epoch_end(0, logs)
    assert "val_error" not in logs and callback.error == float("inf")
    logs = {"loss": float("nan"), "val_accuracy": 0.9}
    callback.on_epoch_end(1, logs)
    assert logs["val_error"] == pytest.approx(0.1) and callback.error == float("inf")
    config = keras.saving.serialize_keras_object(callback)
    assert config["registered_name"] == "keras_sparse_rect>ValidationError"
