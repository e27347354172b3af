"""Test helpers owned by this project (Keras' ``keras.src.testing`` is private API)."""

import json

import keras

from keras_sparse_rect._arrays import to_numpy  # noqa: F401  (the one helper, for the tests)


def assert_config_round_trip(obj):
    """``get_config``/``from_config`` and a JSON round trip through Keras serialization."""
    config = obj.get_config()
    clone = type(obj).from_config(config)
    assert clone.get_config() == config
    serialized = keras.saving.serialize_keras_object(obj)
    restored = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(restored) is type(obj)
    assert restored.get_config() == config
    return restored


def save_and_reload(model, tmp_path, name="model.keras"):
    """Saves ``model`` to a ``.keras`` file and loads it back without custom_objects."""
    path = tmp_path / name
    model.save(path)
    return keras.saving.load_model(path)
