"""The batched trainer against plain Keras, and the pieces it relies on."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from lossbook.core import losses
from lossbook.nets import keras_stack as training
from lossbook.nets import models


def _data(n, f, seed, pos=0.4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f)).astype(np.float32)
    y = (X[:, 0] + rng.normal(scale=1.0, size=n) > 0.3).astype(np.float32)
    return X, y


@pytest.mark.parametrize("model,loss", [("mlp", "bce"), ("simplenn", "focal"), ("cnn", "dice"), ("cnn", "bce")])
def test_trainer_matches_keras_fit(model, loss):
    """Same initial weights, same batch order, no dropout: the trainer and model.fit end at the same weights.

    The trainer restores its best epoch (early stopping on validation AUC), so it is
    compared with Keras' weights after that many epochs.
    """
    import keras

    n, f, epochs, seed = 70, 12, 4, 3  # 70 rows: batches of 32, 32 and a partial 6
    X, y = _data(n, f, 0)
    config = training.TrainConfig(model=model, loss=loss, max_epochs=epochs, patience=100, dropout=False,
                                  loss_params=tuple(sorted({"focal": {"gamma": 2.0, "alpha": 0.25}}.get(loss, {}).items())))
    fold = training.FoldData(X, y, X[:30], y[:30], seed=seed)
    [result] = training.train_folds(config, [fold], keep_weights=True)

    net = models.build_keras(model, f, dropout=False)
    net.set_weights(training.initial_weights(model, f, seed))
    net.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=losses.make(loss, "keras", **dict(config.loss_params)))
    per_epoch = []
    for epoch in range(epochs):
        order = training.epoch_order(seed, epoch, n)
        net.fit(X[order], y[order], batch_size=32, epochs=1, shuffle=False, verbose=0)
        per_epoch.append([w.copy() for w in net.get_weights()])
    expected = per_epoch[result.best_epoch]
    assert result.epochs_run == epochs
    for a, b in zip(expected, result.weights):
        np.testing.assert_allclose(b, a, atol=2e-5, rtol=1e-4)
    assert np.isclose(result.best_val_auc, np.nanmax(result.history["val_auc"]))


def test_initial_weights_match_keras_initialisers():
    for model in models.ARCHITECTURES:
        a = training.initial_weights(model, 10, 7)
        b = models.build_keras(model, 10, seed=7).get_weights()
        for x, z in zip(a, b):
            np.testing.assert_array_equal(x, z)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_a_fold_trained_alone_equals_the_same_fold_in_a_batch(model):
    """Results must not depend on batch-mates (different sizes and widths, dropout on)."""
    folds = []
    for i, (n, f) in enumerate([(50, 10), (64, 12), (41, 9)]):
        X, y = _data(n, f, i)
        Xe, _ = _data(7, f, 10 + i)
        folds.append(training.FoldData(X, y, X[:20], y[:20], seed=100 + i, evaluate={"test": Xe}))
    config = training.TrainConfig(model=model, loss="bce", max_epochs=5, patience=2)
    together = training.train_folds(config, folds)
    alone = training.train_folds(config, [folds[2]])[0]
    np.testing.assert_allclose(alone.predictions["test"], together[2].predictions["test"], atol=1e-6)
    assert alone.best_epoch == together[2].best_epoch
    assert alone.epochs_run == together[2].epochs_run


def test_stopped_models_are_frozen_and_restored():
    """A model with a constant validation AUC stops after `patience` epochs and keeps epoch 0's weights."""
    X, y = _data(40, 6, 1)
    # one validation class only: AUC undefined (NaN), never improves after epoch 0
    fold = training.FoldData(X, y, X[:10], np.zeros(10, dtype=np.float32), seed=1, evaluate={"test": X[:5]})
    other = training.FoldData(X, y, X[:20], y[:20], seed=2)
    config = training.TrainConfig(model="simplenn", loss="bce", max_epochs=20, patience=3, dropout=False)
    res = training.train_folds(config, [fold, other], keep_weights=True)
    assert res[0].epochs_run == 4 and res[0].best_epoch == 0
    one = training.train_folds(training.TrainConfig(model="simplenn", loss="bce", max_epochs=1, dropout=False),
                               [fold], keep_weights=True)[0]
    for a, b in zip(one.weights, res[0].weights):
        np.testing.assert_allclose(a, b, atol=1e-7)


def test_early_stopping_follows_keras_rules():
    stop = training.EarlyStopping(1, patience=2)
    seen = []
    for epoch, value in enumerate([0.5, 0.6, 0.6, 0.59, 0.7, 0.65, 0.6, 0.8]):
        if stop.stopped[0]:
            break
        stop.update(epoch, np.array([value]), np.array([True]))
        seen.append(epoch)
    # 0.6 at epoch 2 is not an improvement (strictly greater needed); epochs 2 and 3 exhaust patience 2
    assert seen == [0, 1, 2, 3]
    assert stop.best_epoch[0] == 1 and stop.best[0] == 0.6


def test_padded_rows_do_not_change_the_loss():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    y = (rng.random((2, 8)) < 0.5).astype(np.float32)
    p = rng.uniform(0.05, 0.95, (2, 8)).astype(np.float32)
    mask = np.ones((2, 8), dtype=np.float32)
    mask[1, 5:] = 0
    for name in ("bce", "focal", "dice"):
        fn = losses.make(name, "keras", axis=-1)
        got = training._masked_loss(fn, name in training._PER_SAMPLE)(
            tf.constant(y), tf.constant(p), tf.constant(mask), tf.ones_like(tf.constant(y))).numpy()
        want = losses.make(name, "numpy")(y[1, :5], p[1, :5])
        assert np.isclose(got[1], want, rtol=1e-5), name


def test_dropout_numbers_are_uniform_per_model_and_ignore_padding():
    """The counter-based dropout stream: about uniform, different per model, seed and step, and a
    model's numbers at a position do not change when the sequence is padded longer."""
    import tensorflow as tf

    seeds = tf.constant([[1, 0], [2, 0], [1, 32]], dtype=tf.uint32)
    u = training._uniform(seeds, 3, [32, 50, 8]).numpy()
    assert u.shape == (3, 32, 50, 8) and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - np.sqrt(1 / 12)) < 0.01
    assert np.mean(u[0] == u[1]) < 1e-3 and np.mean(u[0] == u[2]) < 1e-3  # other seed, other step
    assert abs(np.corrcoef(u[0].ravel(), u[1].ravel())[0, 1]) < 0.02
    longer = training._uniform(seeds, 3, [32, 70, 8]).numpy()
    np.testing.assert_array_equal(longer[:, :, :50], u)
    other_layer = training._uniform(seeds, 4, [32, 50, 8]).numpy()
    assert np.mean(other_layer == u) < 1e-3


def test_fixed_epoch_refit_trains_exactly_that_many_epochs_and_keeps_the_last_weights():
    """FoldData.epochs: no early stopping, no validation rows, the final weights are used (as Keras' fit)."""
    import keras

    n, f, epochs, seed = 70, 12, 3, 5
    X, y = _data(n, f, 0)
    config = training.TrainConfig(model="mlp", loss="bce", max_epochs=10, patience=1, dropout=False)
    empty = np.zeros((0, f), dtype=np.float32)
    refit = training.FoldData(X, y, empty, np.zeros(0, dtype=np.float32), seed=seed, evaluate={"test": X[:9]},
                              epochs=epochs)
    [result] = training.train_folds(config, [refit], keep_weights=True)
    assert result.epochs_run == epochs and result.best_epoch == epochs - 1
    net = models.build_keras("mlp", f, dropout=False)
    net.set_weights(training.initial_weights("mlp", f, seed))
    net.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=losses.make("bce", "keras"))
    for epoch in range(epochs):
        order = training.epoch_order(seed, epoch, n)
        net.fit(X[order], y[order], batch_size=32, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(net.get_weights(), result.weights):
        np.testing.assert_allclose(b, a, atol=2e-5, rtol=1e-4)
    # beside early-stopped models in one batch, a refit comes out the same as alone
    other = training.FoldData(X[:50], y[:50], X[50:], y[50:], seed=9)
    together = training.train_folds(config, [other, refit])[1]
    np.testing.assert_allclose(together.predictions["test"], result.predictions["test"], atol=1e-6)
    with pytest.raises(ValueError, match="epochs"):
        training.train_folds(config, [training.FoldData(X, y, empty, np.zeros(0, dtype=np.float32), seed=1)])
