"""keras_sparse_rect.names: the one list of each kind of name, shared by configs and library."""

import subprocess
import sys
from pathlib import Path

from keras_sparse_rect import names

ROOT = Path(__file__).resolve().parents[1]


def test_names_loads_nothing():
    code = (
        "import sys; import keras_sparse_rect.names; "
        "print('keras' in sys.modules, 'tensorflow' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False", "False"], out.stderr


def test_the_configs_and_the_library_share_the_names():
    from keras_sparse_rect import activations, distribute
    from keras_sparse_rect.experiments import configs

    assert activations.NAMES is names.ACTIVATIONS is configs.ACTIVATIONS
    assert distribute.NAMES is names.STRATEGIES is configs.STRATEGIES
    assert configs.DATASETS is names.IMAGE_DATASETS
    assert configs.PROTOCOLS is names.PROTOCOLS
    assert configs.MODELS is names.TABLE2_NETWORKS


def test_every_named_activation_and_data_set_is_accepted():
    from keras_sparse_rect import activations
    from keras_sparse_rect.data import IMAGE_DATASETS

    for name in names.ACTIVATIONS:
        assert callable(activations.get(name))
    assert tuple(IMAGE_DATASETS) == names.IMAGE_DATASETS


def test_is_image_dataset():
    assert all(names.is_image_dataset(n) for n in names.IMAGE_DATASETS)
    assert names.is_image_dataset("idx:/data") and names.is_image_dataset("npz:a.npz")
    assert not names.is_image_dataset("imagenet") and not names.is_image_dataset(None)
