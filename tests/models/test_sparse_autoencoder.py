"""The first-layer autoencoder for sparse binary input, and reconstruction sampling."""

import keras
import numpy as np
import pytest
import scipy.sparse as sp

from keras_sparse_rect.models import SparseInputDenoisingAutoencoder
from keras_sparse_rect.sparse import csr_to_backend
from tests.helpers import assert_config_round_trip, save_and_reload, to_numpy

ROWS, TERMS, UNITS = 200, 400, 32


def bag_of_words(rows=ROWS, density=0.02, seed=0):
    # Zipf-like term frequencies, as in text: a few frequent terms, many rare ones.
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, TERMS + 1)
    p /= p.sum()
    x = sp.lil_matrix((rows, TERMS), dtype="float32")
    for row in range(rows):
        x[row, rng.choice(TERMS, size=int(density * TERMS), replace=False, p=p)] = 1.0
    return x.tocsr()


@pytest.mark.parametrize("sampling", [False, True])
def test_training_lowers_the_reconstruction_cost(sampling):
    x = bag_of_words()
    dae = SparseInputDenoisingAutoencoder(
        UNITS, pepper_rate=0.5, salt_rate=0.01, reconstruction_sampling=sampling, seed=1
    )
    dae.compile(optimizer=keras.optimizers.SGD(0.05))
    before = dae.evaluate(x, verbose=0, return_dict=True)["reconstruction"]
    history = dae.fit(x, batch_size=10, epochs=3, seed=0, verbose=0)
    after = dae.evaluate(x, verbose=0, return_dict=True)["reconstruction"]
    assert set(history.history) >= {"loss", "reconstruction"}
    assert after < 0.5 * before  # from ~0.69 per term to the term frequencies' entropy
    code = to_numpy(dae.encode(csr_to_backend(x[:5])))
    assert code.shape == (5, UNITS) and np.all(code >= 0)  # rectifier code
    reconstruction = to_numpy(dae.reconstruct(csr_to_backend(x[:5])))
    assert reconstruction.shape == (5, TERMS) and np.all(
        (reconstruction > 0) & (reconstruction < 1)
    )


def test_sampled_cost_is_unbiased():
    x = csr_to_backend(bag_of_words(rows=10))
    dae = SparseInputDenoisingAutoencoder(UNITS, sampled_zeros=40, seed=2)
    dae.build((None, TERMS))
    full = to_numpy(dae.reconstruction_cost(x))
    draws = np.stack([to_numpy(dae.reconstruction_cost(x, sampling=True)) for _ in range(300)])
    # The mean over draws matches the full cost within 4 standard errors.
    error = draws.mean(axis=0) - full
    standard_error = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(error) < 4 * standard_error + 1e-4)
    assert draws.std(axis=0).max() > 0  # it did sample


def test_sampled_columns_hold_every_active_term_and_weights():
    batch = bag_of_words(rows=10)
    x = csr_to_backend(batch)
    dae = SparseInputDenoisingAutoencoder(UNITS, sampled_zeros=50, seed=3)
    dae.build((None, TERMS))
    columns, weights = (to_numpy(a) for a in dae.sampled_columns(x, dae._dense_target(x)))
    active = np.unique(batch.indices)
    assert set(active) <= set(columns.tolist()) and len(set(columns.tolist())) == len(columns)
    is_active = np.isin(columns, active)
    np.testing.assert_array_equal(weights[is_active], 1.0)
    drawn = len(columns) - len(active)
    assert drawn >= 50
    np.testing.assert_allclose(weights[~is_active], (TERMS - len(active)) / drawn, rtol=1e-5)


@pytest.mark.tensorflow_only
def test_sampling_updates_only_the_decoded_rows():
    x = bag_of_words(rows=10)
    dae = SparseInputDenoisingAutoencoder(UNITS, reconstruction_sampling=True, sampled_zeros=20)
    dae.compile(optimizer=keras.optimizers.SGD(0.1))
    dae.build((None, TERMS))
    before = to_numpy(dae.encoder.kernel).copy()
    dae.fit(x, batch_size=10, epochs=1, shuffle=False, verbose=0)
    changed = np.flatnonzero(np.any(to_numpy(dae.encoder.kernel) != before, axis=1))
    # Only the rows of the batch's terms, its salt and the sampled zeros moved.
    assert 0 < len(changed) < TERMS // 2


def test_dense_input_gives_the_same_code():
    batch = bag_of_words(rows=6)
    dae = SparseInputDenoisingAutoencoder(UNITS, seed=4)
    np.testing.assert_allclose(
        to_numpy(dae.encode(batch.toarray())),
        to_numpy(dae.encode(csr_to_backend(batch))),
        atol=1e-5,
    )


def test_encoder_weights_config_and_saving(tmp_path):
    x = bag_of_words(rows=20)
    dae = SparseInputDenoisingAutoencoder(
        UNITS, "tanh", l1=0.0, reconstruction_sampling=True, seed=5
    )
    dae.fit(x, batch_size=10, epochs=1, verbose=0)
    kernel, bias = dae.encoder_weights()
    assert kernel.shape == (TERMS, UNITS) and bias.shape == (UNITS,)
    restored = assert_config_round_trip(dae)
    assert restored.reconstruction_sampling and restored.activation == "tanh"
    reloaded = save_and_reload(dae, tmp_path)
    np.testing.assert_allclose(
        to_numpy(reloaded.encode(csr_to_backend(x))),
        to_numpy(dae.encode(csr_to_backend(x))),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"units": 0}, "units"),
        ({"units": 4, "activation": "sigmoid"}, "activation"),
        ({"units": 4, "l1": -1}, "l1"),
        ({"units": 4, "pepper_rate": 2}, "pepper_rate"),
        ({"units": 4, "salt_rate": 1}, "salt_rate"),
        ({"units": 4, "reconstruction_sampling": "yes"}, "reconstruction_sampling"),
        ({"units": 4, "sampled_zeros": 0}, "sampled_zeros"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SparseInputDenoisingAutoencoder(**kwargs)


def test_fit_refuses_labels():
    with pytest.raises(ValueError, match="unlabeled"):
        SparseInputDenoisingAutoencoder(4).fit(bag_of_words(rows=4), np.zeros(4))


def test_adapt_starts_the_decoder_at_the_term_log_odds():
    x = bag_of_words()
    dae = SparseInputDenoisingAutoencoder(UNITS, seed=6)
    dae.adapt(x)
    frequency = (np.asarray(x.sum(axis=0)).ravel() + 0.5) / (ROWS + 1)
    np.testing.assert_allclose(
        to_numpy(dae.decoder_bias), np.log(frequency / (1 - frequency)), rtol=1e-5
    )
    with pytest.raises(ValueError, match="terms"):
        dae.adapt(x[:, :10])


def test_strings_and_huge_seeds_are_refused_naming_the_argument():
    dae = SparseInputDenoisingAutoencoder(4, seed=0)
    with pytest.raises(ValueError, match=r"`x` must be numbers"):
        dae.fit(np.array([["1", "0"]]))
    with pytest.raises(ValueError, match=r"takes unlabeled inputs only"):
        dae.fit(np.ones((2, 3), "float32"), np.ones(2))
    with pytest.raises(ValueError, match=r"`seed` .*got seed=18446744073709551616"):
        SparseInputDenoisingAutoencoder(4, seed=2**64)
    SparseInputDenoisingAutoencoder(4, seed=2**32 - 1).build((None, 6))  # sampling seed wraps


def test_scipy_input_with_nan_is_refused_with_its_index():
    x = bag_of_words(rows=10).tocsr()
    x.data[3] = np.nan
    with pytest.raises(ValueError, match=r"`x` must be finite; .*fit found nan at index"):
        SparseInputDenoisingAutoencoder(4, seed=0).fit(x, epochs=1, verbose=0)


@pytest.mark.parametrize("sparse", [True, False])
def test_both_autoencoders_scale_their_loss_for_tf_distribute_replicas(sparse, monkeypatch):
    # Replicas' gradients are summed, so each replica's loss is divided by their
    # number (as keras.losses.Loss does); the sparse autoencoder used to skip this.
    from keras_sparse_rect.models import DenoisingAutoencoder, _autoencoder

    monkeypatch.setattr(_autoencoder, "scale_for_replicas", lambda loss: loss * 0.5)
    x = (np.random.default_rng(0).random((4, 6)) < 0.5).astype("float32")
    dae = (SparseInputDenoisingAutoencoder if sparse else DenoisingAutoencoder)(3, l1=0.0, seed=0)
    y_pred = dae(x)
    loss = to_numpy(dae.compute_loss(x, y_pred=y_pred, training=False))
    cost = to_numpy(dae.reconstruction_tracker.result())
    np.testing.assert_allclose(loss, 0.5 * cost, rtol=1e-6)
