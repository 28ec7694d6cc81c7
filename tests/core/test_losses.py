"""lossbook.core.losses: backends agree with the NumPy reference, gradients, library agreement, validation."""
import numpy as np
import pytest

from lossbook.core import losses as L

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

BINARY = {
    "bce": [{}, {"pos_weight": 3.0}, {"label_smoothing": 0.1}],
    "focal": [{}, {"gamma": 0.0, "alpha": None}, {"gamma": 0.5, "alpha": 0.75}, {"gamma": 5.0}],
    "dice": [{}, {"eps": 1e-6}],
}


def batches():
    """Random and extreme binary batches, shape (3, 8): random, near 0/1, all-negative, all-positive."""
    rng = np.random.default_rng(42)
    y = rng.integers(0, 2, (3, 8)).astype(float)
    p = rng.uniform(0, 1, (3, 8))
    extreme = np.array([[0.0, 1e-12, 1e-8, 1e-3, 1 - 1e-3, 1 - 1e-8, 1 - 1e-12, 1.0]] * 3)
    yield "random", y, p
    yield "extreme", y, extreme
    yield "all_negative", np.zeros((3, 8)), p
    yield "all_positive", np.ones((3, 8)), extreme[:, ::-1].copy()


def to_np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(keras.ops.convert_to_numpy(x))


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_binary_backends_match_numpy_reference(name, backend):
    for params in BINARY[name]:
        for axis in (None, -1, 0):
            for from_logits in (False, True):
                ref = L.make(name, "numpy", axis=axis, from_logits=from_logits, **params)
                other = L.make(name, backend, axis=axis, from_logits=from_logits, **params)
                for label, y, p in batches():
                    x = np.log(np.clip(p, 1e-300, None)) - np.log1p(-np.clip(p, None, 1 - 1e-16)) if from_logits else p
                    expected = ref(y, x)
                    got = to_np(other(y, x))
                    assert np.shape(got) == np.shape(expected), (label, axis)
                    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6,
                                               err_msg=f"{name} {params} axis={axis} logits={from_logits} {label}")
                    assert np.all(np.isfinite(expected))


def test_shapes_and_keras_convention():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 10).astype(float)
    p = rng.uniform(0.01, 0.99, 10)
    for name in ("bce", "focal", "dice"):
        loss = L.make(name)
        flat = loss(y, p)
        assert np.ndim(flat) == 0
        # Keras gives (batch, 1); labels may be (batch,) or (batch, 1)
        assert loss(y[:, None], p[:, None]) == pytest.approx(flat, abs=1e-12)
        assert loss(y, p[:, None]) == pytest.approx(flat, abs=1e-12)
    per_model = L.make("focal", axis=-1)(np.stack([y, y]), np.stack([p, p[::-1]]))
    assert per_model.shape == (2,)
    assert per_model[0] == pytest.approx(L.make("focal")(y, p))
    assert per_model[1] == pytest.approx(L.make("focal")(y, p[::-1]))
    dice_models = L.make("dice", axis=-1)(np.stack([y, y]), np.stack([p, p[::-1]]))
    assert dice_models[1] == pytest.approx(L.make("dice")(y, p[::-1]))
    with pytest.raises(ValueError, match="rank"):
        L.make("bce")(y, np.stack([p, p, p], axis=1)[None])


def test_hand_computed_values():
    y = np.array([1.0, 0.0])
    p = np.array([0.8, 0.4])
    bce = -(np.log(0.8) + np.log(0.6)) / 2
    assert L.make("bce")(y, p) == pytest.approx(bce, rel=1e-12)
    assert L.make("bce", pos_weight=2.0)(y, p) == pytest.approx(-(2 * np.log(0.8) + np.log(0.6)) / 2, rel=1e-12)
    focal = -(0.25 * 0.2**2 * np.log(0.8) + 0.75 * 0.4**2 * np.log(0.6)) / 2
    assert L.make("focal")(y, p) == pytest.approx(focal, rel=1e-12)
    dice = 1 - (2 * 0.8 + 1.0) / (1.2 + 1 + 1.0)
    assert L.make("dice")(y, p) == pytest.approx(dice, rel=1e-12)
    # clipping at Keras's epsilon: a confident mistake costs -log(1e-7)
    assert L.make("bce")(np.array([1.0]), np.array([0.0])) == pytest.approx(-np.log(1e-7), rel=1e-9)


def test_alpha_quarter_downweights_positives():
    # the same error on a positive and on a negative: alpha=0.25 makes the positive count 1/3 as much
    focal = L.make("focal", axis=-1)
    pos = focal(np.array([[1.0]]), np.array([[0.3]]))[0]
    neg = focal(np.array([[0.0]]), np.array([[0.7]]))[0]
    assert pos / neg == pytest.approx(0.25 / 0.75)


# ------------------------------------------------------------- gradients
def numeric_grad(fn, p, h=1e-6):
    g = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[i] += h
        down[i] -= h
        g[i] = (fn(up) - fn(down)) / (2 * h)
    return g


GRAD_CASES = [("bce", {"pos_weight": 2.0, "label_smoothing": 0.1}), ("focal", {}), ("focal", {"gamma": 0.5, "alpha": None}),
              ("dice", {})]


@pytest.mark.parametrize("name,params", GRAD_CASES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_autograd_matches_finite_differences(name, params, from_logits):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 6).astype(float)
    x = rng.normal(size=6) if from_logits else rng.uniform(0.02, 0.98, 6)
    ref = L.make(name, "numpy", from_logits=from_logits, **params)
    expected = numeric_grad(lambda z: ref(y, z), x)

    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    L.make(name, "torch", from_logits=from_logits, **params)(torch.tensor(y), t).backward()
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-5, atol=1e-7)

    v = tf.Variable(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        value = L.make(name, "keras", from_logits=from_logits, **params)(tf.constant(y), v)
    np.testing.assert_allclose(tape.gradient(value, v).numpy(), expected, rtol=1e-5, atol=1e-7)


def test_loss_and_gradient_per_example():
    p = np.array([0.1, 0.5, 0.9])
    for name, params in GRAD_CASES:
        for label in (0, 1):
            got, grad = L.loss_and_gradient(name, label, p, **params)
            expected = L.make(name, axis=-1, **params)(np.full((3, 1), float(label)), p[:, None])
            np.testing.assert_allclose(got, expected, rtol=1e-12)
            numeric = [numeric_grad(lambda z, name=name, params=params, label=label: L.make(name, **params)(np.array([label]), z),
                                    p[i:i + 1])[0]
                       for i in range(3)]
            np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="label must be 0 or 1"):
        L.loss_and_gradient("bce", 2, p)


def test_weighted_ce_gradients():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 5)
    logits = rng.normal(size=(5, 3))
    params = {"class_weights": [1.0, 2.0, 0.5], "gamma": 2.0}
    ref = L.make("weighted_ce", from_logits=True, **params)
    expected = numeric_grad(lambda z: ref(labels, z), logits)
    t = torch.tensor(logits, requires_grad=True)
    L.make("weighted_ce", "torch", from_logits=True, **params)(labels, t).backward()
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-5, atol=1e-7)
    v = tf.Variable(logits)
    with tf.GradientTape() as tape:
        value = L.make("weighted_ce", "keras", from_logits=True, **params)(labels, v)
    np.testing.assert_allclose(tape.gradient(value, v).numpy(), expected, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------- library agreement
def test_focal_matches_keras_binary_focal_crossentropy():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, (16, 1)).astype("float32")
    p = rng.uniform(0.001, 0.999, (16, 1)).astype("float32")
    for alpha, gamma in [(0.25, 2.0), (0.75, 1.0), (0.5, 0.0)]:
        ours = L.make("focal", gamma=gamma, alpha=alpha)(y, p)
        theirs = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=alpha, gamma=gamma)(y, p)
        assert float(theirs) == pytest.approx(ours, rel=1e-5)
    unbalanced = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=False, gamma=2.0)(y, p)
    assert float(unbalanced) == pytest.approx(L.make("focal", alpha=None)(y, p), rel=1e-5)
    logits = rng.normal(size=(16, 1)).astype("float32")
    theirs = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True)(y, logits)
    assert float(theirs) == pytest.approx(L.make("focal", from_logits=True)(y, logits), rel=1e-5)
    # saturated predictions, in float64 (in float32, 1 - 1e-7 rounds to 1 - 1.19e-7)
    y64 = np.array([[0.0], [1.0], [0.0], [1.0]])
    p64 = np.array([[1.0], [0.0], [1e-12], [1 - 1e-12]])
    theirs = keras.losses.binary_focal_crossentropy(y64, p64, apply_class_balancing=True, axis=None)
    # Keras forms p_t from the unclipped p, we from the clipped one: (1 - 1e-7)**gamma apart at most
    assert float(theirs) == pytest.approx(L.make("focal")(y64, p64), rel=1e-6)
    assert float(theirs) != pytest.approx(L.make("focal")(y64, p64), rel=1e-9)


def test_bce_matches_keras_label_smoothing_and_torch():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, (12, 1)).astype("float32")
    p = rng.uniform(1e-3, 1 - 1e-3, (12, 1))
    logits = rng.normal(size=(12, 1))
    for s in (0.0, 0.2):
        theirs = keras.losses.BinaryCrossentropy(label_smoothing=s)(y, p.astype("float32"))
        assert float(theirs) == pytest.approx(L.make("bce", label_smoothing=s)(y, p), rel=1e-5)
    tt = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y, dtype=torch.float64))
    assert float(tt) == pytest.approx(L.make("bce")(y, p), rel=1e-10)
    tl = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits), torch.tensor(y, dtype=torch.float64), pos_weight=torch.tensor([3.0], dtype=torch.float64))
    assert float(tl) == pytest.approx(L.make("bce", pos_weight=3.0, from_logits=True)(y, logits), rel=1e-10)


def test_bce_differs_from_torch_at_zero_on_purpose():
    # Keras-style clipping at 1e-7 bounds the cost at 16.12; torch caps the log at -100.
    y, p = np.array([1.0]), np.array([0.0])
    assert L.make("bce")(y, p) == pytest.approx(-np.log(1e-7), rel=1e-9)
    assert float(torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y))) == pytest.approx(100.0)


def test_dice_versus_keras_dice():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, (20, 1)).astype("float64")
    p = rng.uniform(0, 1, (20, 1))
    theirs = float(keras.losses.Dice()(y.astype("float32"), p.astype("float32")))
    # Keras: 1 - 2*sum(p*y) / (sum(p) + sum(y) + 1e-7), no numerator term
    by_hand = 1 - 2 * np.sum(p * y) / (np.sum(p) + np.sum(y) + 1e-7)
    assert theirs == pytest.approx(by_hand, rel=1e-5)
    # ours with a tiny eps is the same number up to eps
    assert L.make("dice", eps=1e-7)(y, p) == pytest.approx(theirs, rel=1e-5)
    # the pinned difference: an all-negative batch predicted all-negative scores 0 with eps, 1 in Keras
    zeros = np.zeros((8, 1))
    assert L.make("dice")(zeros, zeros + 1e-9) == pytest.approx(0.0, abs=1e-8)
    assert float(keras.losses.Dice()(zeros.astype("float32"), zeros.astype("float32"))) == pytest.approx(1.0)
    # the default eps=1 matters for small batches
    assert abs(L.make("dice")(y, p) - theirs) > 1e-3


def test_weighted_ce_matches_torch_and_keras():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 4, 30)
    logits = rng.normal(size=(30, 4))
    w = np.array([0.5, 1.0, 2.0, 4.0])
    torch_mean = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels), weight=torch.tensor(w))
    ours = L.make("weighted_ce", class_weights=w, normalize="weights", from_logits=True)(labels, logits)
    assert float(torch_mean) == pytest.approx(ours, rel=1e-10)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    onehot = np.eye(4)[labels]
    keras_cw = keras.losses.CategoricalCrossentropy()(onehot, probs, sample_weight=w[labels])
    assert float(keras_cw) == pytest.approx(L.make("weighted_ce", class_weights=w)(onehot, probs), rel=1e-5)
    # integer labels, (n, 1) integer labels and one-hot labels agree
    loss = L.make("weighted_ce", class_weights=w)
    assert loss(labels, probs) == pytest.approx(loss(onehot, probs), rel=1e-12)
    assert loss(labels[:, None], probs) == pytest.approx(loss(onehot, probs), rel=1e-12)
    # multi-class focal: Keras's CategoricalFocalCrossentropy with alpha=1
    focal = keras.losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=2.0)(onehot, probs)
    assert float(focal) == pytest.approx(L.make("focal_ce")(labels, probs), rel=1e-5)
    assert L.make("focal_ce")(labels, probs) == pytest.approx(L.make("weighted_ce", gamma=2.0)(labels, probs))
    for backend in ("keras", "torch"):
        for lab in (labels, onehot):
            got = to_np(L.make("weighted_ce", backend, class_weights=w, gamma=1.0, axis=0)(lab, probs))
            np.testing.assert_allclose(got, L.make("weighted_ce", class_weights=w, gamma=1.0, axis=0)(lab, probs),
                                       rtol=1e-6)


def test_balanced_weights_follow_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 6 + [1] * 3 + [2] * 1)
    loss = L.make("weighted_ce", class_weights="balanced", y_train=y)
    np.testing.assert_allclose(loss.params["class_weights"], compute_class_weight("balanced", classes=np.arange(3), y=y))
    assert L.balanced_class_weights(np.eye(3)[y]) == L.balanced_class_weights(y)
    with pytest.raises(ValueError, match="every class"):
        L.balanced_class_weights(np.array([0, 2, 2]))
    with pytest.raises(ValueError, match="3 entries but y_pred has 2 classes"):
        loss(np.array([0, 1]), np.full((2, 2), 0.5))


# ------------------------------------------------------------ keras usage
def test_keras_compile_and_fit_in_graph_mode():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (x[:, 0] > 0.5).astype("float32")
    for name, params in [("bce", {"pos_weight": 2.0}), ("focal", {}), ("dice", {})]:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss=L.make(name, "keras", **params))
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        pred = model.predict(x, verbose=0)
        assert float(model.evaluate(x, y, batch_size=32, verbose=0)) == pytest.approx(
            L.make(name, **params)(y, pred), rel=1e-4)
    # multi-class: Keras hands integer labels as (batch,) or one-hot; both train and evaluate to the reference
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    for lab in (labels, np.eye(3)[labels]):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss=L.make("weighted_ce", "keras", class_weights="balanced", y_train=labels))
        model.fit(x, lab, batch_size=16, epochs=1, verbose=0)
        reference = L.make("weighted_ce", class_weights="balanced", y_train=labels)(labels, model.predict(x, verbose=0))
        assert float(model.evaluate(x, lab, batch_size=32, verbose=0)) == pytest.approx(reference, rel=1e-4)
    compiled = tf.function(L.make("focal", "keras", axis=-1))
    assert compiled(tf.constant(np.stack([y, y])), tf.constant(np.full((2, 32), 0.4, "float32"))).shape == (2,)


# -------------------------------------------------------------- validation
@pytest.mark.parametrize("args,kwargs,match", [
    (("hinge", "numpy"), {}, "unknown loss name 'hinge'.*allowed"),
    (("bce", "jax"), {}, "unknown backend 'jax'.*allowed"),
    (("focal",), {"gamma": -1}, "gamma must be"),
    (("focal",), {"alpha": 1.5}, "alpha must be"),
    (("dice",), {"eps": 0}, "eps must be"),
    (("bce",), {"label_smoothing": 1.0}, "label_smoothing must be"),
    (("bce",), {"pos_weight": 0}, "pos_weight must be"),
    (("bce",), {"gamma": 2}, r"unknown parameter\(s\) \['gamma'\].*allowed"),
    (("weighted_ce",), {"class_weights": [1.0, -1.0]}, "class_weights must be"),
    (("weighted_ce",), {"class_weights": [1.0]}, "class_weights must be"),
    (("weighted_ce",), {"class_weights": "balanced"}, "needs y_train"),
    (("weighted_ce",), {"class_weights": "inverse"}, "class_weights must be"),
    (("weighted_ce",), {"normalize": "sum"}, "normalize must be"),
    (("bce",), {"axis": "last"}, "axis must be"),
    (("bce",), {"from_logits": 1}, "from_logits must be"),
])
def test_make_rejects_bad_parameters(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.make(*args, **kwargs)


# ------------------------------------------------- labels outside the class range
@pytest.mark.parametrize("backend", ["numpy", "torch", "keras"])
@pytest.mark.parametrize("name", ["bce", "focal", "dice"])
@pytest.mark.parametrize("bad", [2.0, -1.0, 0.5, float("nan")])
def test_binary_losses_refuse_labels_other_than_0_and_1(backend, name, bad):
    fn = L.make(name, backend)
    with pytest.raises(ValueError, match=rf"{name}: y_true (must hold only labels 0 and 1|holds 1 NaN)"):
        fn(np.array([0.0, 1.0, bad]), np.array([0.2, 0.7, 0.4]))


@pytest.mark.parametrize("backend", ["numpy", "torch", "keras"])
@pytest.mark.parametrize("bad", [-1, 3, 5])
def test_weighted_ce_refuses_labels_outside_the_class_range(backend, bad):
    fn = L.make("weighted_ce", backend, class_weights=[1.0, 2.0, 3.0])
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    with pytest.raises(ValueError, match=r"weighted_ce: y_true must hold only labels 0 \.\. 2"):
        fn(np.array([0, bad]), probs)
    with pytest.raises(ValueError, match=r"one-hot y_true must hold values in \[0, 1\]"):
        fn(np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 0.0]]), probs)
    assert np.isfinite(float(fn(np.array([0, 2]), probs)))  # in range: scored


def test_keras_graph_mode_cannot_check_labels_and_says_so():
    # Documented precondition: inside a traced graph the values are unknown, so
    # the check is skipped (the loss still computes; the trainer's labels are 0/1).
    fn = L.make("bce", "keras")
    traced = tf.function(lambda y, p: fn(y, p))
    value = traced(tf.constant([0.0, 2.0]), tf.constant([0.2, 0.4]))
    assert np.isfinite(float(value))
    assert "Keras checks in eager mode" in L.__doc__


# -- what the losses chapter computes ---------------------------------------------

def test_focal_discount_is_the_focusing_factor():
    ratios = L.focal_discount([0.0, 1.0, 2.0], p_t=0.9)
    assert list(ratios) == ["0", "1", "2"]
    np.testing.assert_allclose(list(ratios.values()), [1.0, 0.1, 0.01], rtol=1e-9)


@pytest.mark.parametrize("alpha, expected", [(0.25, 1 / 3), (0.75, 3.0), (None, 1.0)])
def test_alpha_cost_ratio_is_the_class_weighting_alone(alpha, expected):
    assert L.alpha_cost_ratio(2.0, alpha, p_t=0.3) == pytest.approx(expected, rel=1e-9)


def test_fixed_predictions_are_the_five_predictors_and_repeatable():
    y = np.array([0, 0, 0, 1] * 25)
    preds = L.fixed_predictions(y, seed=3)
    assert list(preds) == ["constant π", "constant 0.5", "all positive (0.99)", "soft perfect (0.7 / 0.3)",
                           "noisy ranker"]
    assert all(p.shape == y.shape for p in preds.values())
    assert np.all(preds["constant π"] == 0.25) and np.all(preds["all positive (0.99)"] == 0.99)
    assert np.array_equal(preds["soft perfect (0.7 / 0.3)"], np.where(y == 1, 0.7, 0.3))
    ranker = preds["noisy ranker"]
    assert np.all((ranker > 0) & (ranker < 1)) and ranker[y == 1].mean() > ranker[y == 0].mean()
    assert np.array_equal(ranker, L.fixed_predictions(y, seed=3)["noisy ranker"])
    assert not np.array_equal(ranker, L.fixed_predictions(y, seed=4)["noisy ranker"])
