"""experiments/configs.py: each setting checked once, with the message naming it (Keras-free)."""

import os
import subprocess
import sys

import pytest

from keras_sparse_rect.experiments import configs
from keras_sparse_rect.experiments.configs import ImageExperimentConfig, SentimentConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_image_config_validation_names_the_field():
    with pytest.raises(ValueError, match="labeled_fraction"):
        ImageExperimentConfig(labeled_fraction=0.0).validate()
    with pytest.raises(ValueError, match="epochs"):
        ImageExperimentConfig(epochs=-1).validate()
    assert os.path.basename(ImageExperimentConfig().model_dir) == "image_experiment"


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"epochs": 0}, "`epochs` must be an int >= 1; got epochs=0"),
        ({"seed": 10**20}, "`seed` must be an int in [0, 4294967295]"),
        ({"tpu": "my-tpu"}, "`tpu` names a TPU for strategy='tpu' only"),
        ({"hidden_units": (10_000_000,)}, "`hidden_units` (10000000) needs at least"),
        ({"noise": (0.1, 0.2)}, "`noise` must be one value or one per hidden layer (3)"),
        ({"hidden_units": (True,)}, "`hidden_units` must be one or more ints >= 1"),
        ({"sign_flip": 1}, "`sign_flip` must be a bool"),
        ({"activation": "relu"}, "`activation` must be one of"),
    ],
)
def test_image_config_refuses(fields, needle):
    with pytest.raises(ValueError) as error:
        ImageExperimentConfig(**fields).validate()
    assert needle in str(error.value)


def test_per_layer_settings_follow_the_one_rule_and_keep_one_value_as_given():
    config = ImageExperimentConfig(hidden_units=(8, 8, 8), l1=[0.5], noise=0.1).validate()
    assert config.l1 == 0.5 and config.noise == 0.1  # recorded as given
    assert config.per_layer("l1") == (0.5, 0.5, 0.5)
    config = ImageExperimentConfig(hidden_units=(8, 8), noise=(0.1, 0.2)).validate()
    assert config.per_layer("noise") == (0.1, 0.2)


def test_a_tpu_needs_the_tensorflow_backend_read_without_importing_keras():
    code = (
        "import sys\n"
        "from keras_sparse_rect.experiments.configs import ImageExperimentConfig as C\n"
        "try:\n"
        "    C(strategy='tpu').validate()\n"
        "except ValueError as e:\n"
        "    print(e)\n"
        "print('keras' in sys.modules)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.stdout.split("\n")[:2] == ["strategy='tpu' needs the TensorFlow backend.", "False"]


def test_the_memory_check_counts_the_network_and_its_autoencoders():
    small = configs.training_bytes(784, (1000, 1000, 1000), 10)
    assert 30 * 2**20 < small < 40 * 2**20
    configs.check_network_fits("hidden_units", (1000,), 784, 10, available=2**30)
    with pytest.raises(ValueError, match="this machine has 1.0 GiB"):
        configs.check_network_fits("hidden_units", (100_000,), 784, 10, available=2**30)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("models", ("no_hidden", "huge")),
        ("folds", 1),
        ("epochs", 0),
        ("learning_rate", 0.0),
        ("l1", (1e-4, 0.0)),
        ("pretrain_learning_rates", (0.1, -1, 0.1)),
        ("pepper_rate", 1.5),
        ("masking_noise", (0.5, 0.3, 0.1)),
        ("hidden_units", (10, 20)),
        ("sampled_zeros", 0),
    ],
)
def test_sentiment_config_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SentimentConfig(**{field: value}).validate()


def test_sentiment_per_layer_settings_give_three_values():
    config = SentimentConfig(l1=0.1, masking_noise=[0.2], hidden_units=7).validate()
    assert config.l1 == (0.1, 0.1, 0.1) and config.masking_noise == (0.2, 0.2)
    assert config.hidden_units == (7, 7, 7)
