"""Train many small Keras-style networks at once: the batched fold trainer.

A cross-validation grid trains hundreds of tiny networks; one ``model.fit`` per
fold spends most of its time in per-step framework overhead. Here the weights
of ``M`` networks of the same architecture are stacked along a leading model
axis and every training step updates all of them with batched matrix products,
while each network keeps the semantics of its own ``model.fit``:

* its own training rows, in its own per-epoch shuffled order, cut into batches of
  ``batch_size`` with a smaller last batch (rows of shorter folds are padded and
  masked out of the loss; a model with no rows in a step is not updated at all);
* Keras initialisers (Glorot-uniform kernels, zero biases) from its own seed;
* its own dropout masks (inverted dropout, as Keras), from a counter-based hash of
  its own seed (:func:`_uniform`), not TensorFlow's generator, so that masks for
  any set of models come from a few vectorised operations;
* Keras' Adam (bias correction as ``keras.optimizers.Adam``, per-model step count);
* early stopping on validation ROC-AUC with Keras' ``EarlyStopping`` rules
  (patience, ``restore_best_weights=True``); a stopped model is frozen and drops
  out of the computation (one compiled epoch serves any subset of running models).

Nothing a model computes depends on which other models share its batch, so a
fold trained alone gives the same result as in a batch (this is what lets the
study cache folds one by one).

Models whose inputs have different widths (column filters fitted per fold keep
different columns) are zero-padded to the widest; padded inputs meet zero
weights that never receive a gradient, and for the CNN the padded positions
after pooling are masked, so padding changes nothing.

Validation AUC is the exact (rank) ROC-AUC of :func:`lossbook.core.metrics.roc_auc`, not Keras'
200-threshold approximation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossbook.core.metrics import roc_auc
from lossbook.nets.models import Network, network

__all__ = ["TRAINER_VERSION", "TrainConfig", "FoldData", "FoldResult", "train_folds", "initial_weights",
           "epoch_order", "EarlyStopping", "LOSS_NAMES"]

LOSS_NAMES = ("bce", "focal", "dice")
#: Bump when a change to this module changes what a trained model comes out as (cache keys use it).
#: 2: dropout masks from a per-model counter-based hash instead of TensorFlow's stateless generator.
#: (FoldData.epochs, fixed-epoch refits, added nothing to what other models come out as.)
TRAINER_VERSION = 2
# Losses that are a mean of per-sample terms (padded rows can be masked out per sample).
_PER_SAMPLE = {"bce", "focal", "weighted_ce"}


@dataclass(frozen=True)
class TrainConfig:
    """What every model of one batched call shares.

    ``network_options``: (option, value) pairs of :func:`lossbook.nets.models.network`
    (sorted; empty: the book's network). ``loss`` is a name known to :func:`lossbook.core.losses.make` ("bce", "focal",
    "dice"); ``loss_params`` its keyword parameters as sorted (name, value)
    pairs. ``class_weight`` is (weight of class 0, weight of class 1), applied as
    per-row weights of per-sample losses (Keras ``class_weight``); Dice has no
    per-sample term and ignores it. ``label_smoothing`` moves targets towards 0.5
    as Keras' ``label_smoothing`` does.
    """

    model: str = "mlp"
    network_options: tuple = ()
    loss: str = "bce"
    loss_params: tuple = ()
    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    batch_size: int = 32
    max_epochs: int = 100
    patience: int = 15
    class_weight: tuple[float, float] = (1.0, 1.0)
    label_smoothing: float = 0.0
    dropout: bool = True

    def as_dict(self) -> dict:
        """The config as JSON-able data, for cache keys and the seeds derived from them. Empty
        ``network_options`` are left out, so the book's networks keep the keys and initial
        weights they had before options existed."""
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
        if not self.network_options:
            del out["network_options"]
        return out


@dataclass
class FoldData:
    """One model's data. Arrays are float (n_rows, n_features) and 0/1 (n_rows,).

    ``evaluate`` maps names (e.g. "test") to feature arrays that are scored
    once, with the restored best weights, after training.

    ``epochs``: when set, the model trains exactly this many epochs without early
    stopping and keeps its final weights (a refit for an epoch count chosen
    elsewhere); ``X_val``/``y_val`` may then have no rows.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    seed: int
    evaluate: dict = field(default_factory=dict)
    epochs: int | None = None


@dataclass
class FoldResult:
    """What training one model produced.

    ``history`` holds per-epoch arrays ``loss`` (mean training batch loss),
    ``val_loss`` and ``val_auc``; ``best_epoch`` is 0-based; ``epochs_run`` counts
    epochs trained; ``predictions`` maps each ``evaluate`` name to probabilities.
    ``weights`` (Keras order, unpadded) only when asked for.
    """

    best_epoch: int
    epochs_run: int
    best_val_auc: float
    history: dict
    predictions: dict
    weights: list | None = None


# -- pieces that are easy to check on their own ---------------------------------------


def epoch_order(seed: int, epoch: int, n_rows: int) -> np.ndarray:
    """Row order of one model in one epoch (a permutation of ``n_rows``)."""
    return np.random.default_rng([seed, epoch]).permutation(n_rows)


class EarlyStopping:
    """Keras' ``EarlyStopping(monitor=..., mode="max", patience, restore_best_weights=True)``
    for ``n_models`` models at once. ``update`` returns which models improved."""

    def __init__(self, n_models: int, patience: int):
        self.patience = patience
        self.best = np.full(n_models, -np.inf)
        self.best_epoch = np.zeros(n_models, dtype=int)
        self.wait = np.zeros(n_models, dtype=int)
        self.stopped = np.zeros(n_models, dtype=bool)

    def update(self, epoch: int, value: np.ndarray, running: np.ndarray) -> np.ndarray:
        """Record epoch ``epoch``'s monitored ``value`` for the ``running`` models."""
        value = np.where(np.isnan(value), -np.inf, value)  # Keras: NaN never improves
        self.wait = np.where(running, self.wait + 1, self.wait)
        improved = running & ((value > self.best) | ((epoch == 0) & np.isneginf(self.best)))
        self.best = np.where(improved, value, self.best)
        self.best_epoch = np.where(improved, epoch, self.best_epoch)
        self.wait = np.where(improved, 0, self.wait)
        self.stopped |= running & ~improved & (self.wait >= self.patience) & (epoch > 0)
        return improved


def initial_weights(model: str | Network, n_features: int, seed: int) -> list[np.ndarray]:
    """Keras initial weights (Glorot-uniform kernels, zero biases) in Keras order.

    Layer ``i`` (counting every layer of the spec) uses ``GlorotUniform(seed + i)``,
    exactly as :func:`lossbook.nets.models.build_keras` with the same ``seed``.
    ``model``: a :class:`~lossbook.nets.models.Network` or its name.
    """
    import keras

    net = network(model) if isinstance(model, str) else model
    layer_index = net.weighted_layers
    weights = []
    for j, (kind, shape) in enumerate(net.parameter_shapes(n_features)):
        if kind == "kernel":
            init = keras.initializers.GlorotUniform(seed=seed + layer_index[j // 2])
            weights.append(np.asarray(init(shape), dtype=np.float32))
        else:
            weights.append(np.zeros(shape, dtype=np.float32))
    return weights


# -- the stacked network ------------------------------------------------------------


class _Stack:
    """Forward pass of stacked networks (TensorFlow ops).

    The number of stacked models is dynamic: the same traced function serves any
    subset of the models (the running ones), picked by ``active`` indices.
    """

    def __init__(self, net: Network, n_features: int, pooled_lengths: np.ndarray | None):
        self.spec = net.layers
        self.pool_mask = None  # CNN: (M, 1, width, 1), 1 at positions within each model's own length
        if pooled_lengths is not None:
            self.pool_mask = _pool_mask(pooled_lengths, net, n_features)

    def __call__(self, params, x, dropout_seeds=None, active=None):
        """x: (m, B, F) -> probabilities (m, B) for the m models ``params`` hold.

        ``dropout_seeds``: (m, 2) uint32 (model seed, step counter), or None for no
        dropout; ``active``: which of all M models ``params`` and ``x`` hold
        (default: all; it picks their rows of the CNN's pooling mask).
        """
        state = _Forward(iter(params), dropout_seeds, active, self.pool_mask)
        h = x
        for index, layer in enumerate(self.spec):
            h = _FORWARD[layer.kind](layer, index, h, state)
        return h[..., 0]


@dataclass
class _Forward:
    """What the layers of one stacked forward pass share: the weights still to be
    consumed (Keras order), the dropout streams, the models present and the CNN's
    pooling mask, and the channels of the last convolution's output."""

    params: object  # iterator over the stacked weights
    dropout_seeds: object
    active: object
    pool_mask: np.ndarray | None
    filters: int | None = None


def _reshape_forward(layer, index, h, state):
    import tensorflow as tf

    # sequence layout for the convolutions: (B, length, m * channels), so that the
    # m models' convolutions run as one grouped convolution (groups = m)
    return tf.transpose(h, (1, 2, 0))


def _conv1d_forward(layer, index, h, state):
    import tensorflow as tf

    kernel, bias = next(state.params), next(state.params)
    k, channels, state.filters = kernel.shape[1], kernel.shape[2], kernel.shape[3]
    # (m, k, C_in, C_out) -> (k, C_in, m * C_out): model i's filters form group i
    filt = tf.reshape(tf.transpose(kernel, (1, 2, 0, 3)), (k, channels, -1))
    h = tf.nn.conv1d(h, filt, stride=1, padding="VALID") + tf.reshape(bias, (-1,))
    return _activate(h, layer.activation)


def _maxpool_forward(layer, index, h, state):
    import tensorflow as tf

    p = int(layer.size)
    h = tf.nn.max_pool1d(h, p, p, "VALID")  # (B, L', m * C)
    h = tf.transpose(tf.reshape(h, (tf.shape(h)[0], h.shape[1], -1, state.filters)), (2, 0, 1, 3))
    if state.pool_mask is not None:
        mask = tf.constant(state.pool_mask)
        h = h * (mask if state.active is None else tf.gather(mask, state.active))
    return h


def _flatten_forward(layer, index, h, state):
    import tensorflow as tf

    return tf.reshape(h, (tf.shape(h)[0], tf.shape(h)[1], h.shape[2] * h.shape[3]))


def _dense_forward(layer, index, h, state):
    import tensorflow as tf

    kernel, bias = next(state.params), next(state.params)
    return _activate(tf.matmul(h, kernel) + bias[:, None, :], layer.activation)


def _dropout_forward(layer, index, h, state):
    import tensorflow as tf

    if state.dropout_seeds is None or layer.size <= 0:
        return h
    rate = float(layer.size)
    keep = _uniform(state.dropout_seeds, index, [tf.shape(h)[a] for a in range(1, len(h.shape))]) >= rate
    return tf.where(keep, h / (1.0 - rate), tf.zeros_like(h))


#: The stacked forward pass of each layer kind (:data:`lossbook.nets.models.LAYER_KINDS` has the
#: shapes and Keras builds): f(layer, its index in the spec, h, the pass's :class:`_Forward`) -> h.
_FORWARD = {"reshape": _reshape_forward, "conv1d": _conv1d_forward, "maxpool": _maxpool_forward,
            "flatten": _flatten_forward, "dense": _dense_forward, "dropout": _dropout_forward}


def _activate(h, name):
    import tensorflow as tf

    if name == "relu":
        return tf.nn.relu(h)
    if name == "sigmoid":
        return tf.math.sigmoid(h)
    return h


_ROW_STRIDE = 1 << 20  # dropout positions: batch row b starts at b * 2^20 (so batches up to 4096 rows)


def _mix32(x):
    """A 32-bit integer hash (Wellons' lowbias32): every output bit depends on every input bit."""
    import tensorflow as tf

    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16)) * tf.constant(0x7FEB352D, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 15)) * tf.constant(0x846CA68B, tf.uint32)
    return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))


def _uniform(seeds, layer: int, shape):
    """Uniform [0, 1) numbers of shape (m, *shape) for dropout, one stream per model.

    ``seeds``: (m, 2) uint32 rows (model seed, step counter); ``shape``: a list of
    sizes (ints or scalar tensors), batch rows first. Element (b, ..., c) of
    model i is a hash of (its seed, its counter, ``layer``, the element's position),
    so a model's mask depends on nothing but its own seed and where it is: not on
    its batch-mates, nor on how far they pad a sequence. Counter-based, like
    TensorFlow's stateless generators, but vectorised over models.
    """
    import tensorflow as tf

    key = _mix32(tf.bitwise.bitwise_xor(_mix32(seeds[:, 0]), seeds[:, 1]))
    key_a = _mix32(tf.bitwise.bitwise_xor(key, tf.constant(layer, tf.uint32)))
    key_b = _mix32(tf.bitwise.bitwise_xor(key_a, tf.constant(0x9E3779B9, tf.uint32)))
    # position of element (b, *rest): b * 2^20 + the row-major index of rest, whose strides
    # come from the inner sizes only, so padding the outermost of rest changes nothing
    position = tf.zeros((), tf.uint32)
    for axis in range(1, len(shape)):
        coord = tf.cast(tf.range(shape[axis]), tf.uint32)
        position = position[..., None] * tf.cast(shape[axis], tf.uint32) + coord
    rows = tf.cast(tf.range(shape[0]), tf.uint32) * tf.constant(_ROW_STRIDE, tf.uint32)
    position = tf.reshape(rows, (-1,) + (1,) * (len(shape) - 1)) + position
    expand = (-1,) + (1,) * len(shape)
    bits = _mix32(tf.bitwise.bitwise_xor(position[None], tf.reshape(key_a, expand)))
    bits = _mix32(tf.bitwise.bitwise_xor(bits, tf.reshape(key_b, expand)))
    return tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) * (1.0 / (1 << 24))


def _pad_weights(net: Network, weights: list[np.ndarray], n_features: int) -> list[np.ndarray]:
    """Zero-pad one model's weights to the shapes for ``n_features`` inputs."""
    target = [shape for _, shape in net.parameter_shapes(n_features)]
    padded = []
    for w, shape in zip(weights, target):
        out = np.zeros(shape, dtype=np.float32)
        out[tuple(slice(0, s) for s in w.shape)] = w
        padded.append(out)
    return padded


def _unpad_weights(net: Network, weights: list[np.ndarray], n_features: int) -> list[np.ndarray]:
    target = [shape for _, shape in net.parameter_shapes(n_features)]
    return [w[tuple(slice(0, s) for s in shape)].copy() for w, shape in zip(weights, target)]


def _masked_loss(loss_fn, per_sample: bool):
    """(y, p, mask, weight), all (M, B) -> per-model batch loss (M,).

    Per-sample losses: weighted sum over real rows / number of real rows (Keras'
    ``sum_over_batch_size`` with sample weights). Others (Dice): padded rows are set
    to y = p = 0, which adds nothing to Dice's sums.
    """
    import tensorflow as tf

    def compute(y, p, mask, weight):
        if per_sample:
            per_row = loss_fn(y[..., None], p[..., None])  # mean over a last axis of size 1
            count = tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
            return tf.reduce_sum(per_row * mask * weight, axis=1) / count
        return loss_fn(y * mask, p * mask)

    return compute


# -- the trainer ----------------------------------------------------------------------


def _stack_data(arrays: list[np.ndarray], n_cols: int | None, dtype=np.float32):
    n_rows = max(len(a) for a in arrays)
    shape = (len(arrays), n_rows) + ((n_cols,) if n_cols is not None else ())
    out = np.zeros(shape, dtype=dtype)
    mask = np.zeros((len(arrays), n_rows), dtype=np.float32)
    for i, a in enumerate(arrays):
        if n_cols is None:
            out[i, :len(a)] = a
        else:
            out[i, :a.shape[0], :a.shape[1]] = a
        mask[i, :len(a)] = 1.0
    return out, mask


def train_folds(config: TrainConfig, folds: list[FoldData], *, keep_weights: bool = False,
                initial: list[list[np.ndarray]] | None = None, progress=None) -> list[FoldResult]:
    """Train one model per fold, all at once; return one :class:`FoldResult` per fold.

    Parameters
    ----------
    config : TrainConfig
        Architecture, loss and optimiser settings shared by all models.
    folds : list of FoldData
        One entry per model: its training rows, validation rows (for early
        stopping), seed and the sets to score after training.
    keep_weights : bool
        Return each model's final (restored best) weights, in Keras order.
    initial : list of weight lists, optional
        Start from these weights instead of the seeded Keras initialisers.
    progress : callable, optional
        Called with the number of epochs finished by the slowest model.

    Each epoch computes only the models still running: early-stopped models drop
    out of the stacked matrix products without retracing the compiled epoch.
    """
    import tensorflow as tf

    from lossbook.core import losses

    if not folds:
        return []
    if config.dropout and config.batch_size * _ROW_STRIDE >= 1 << 32:
        raise ValueError(f"batch_size must be at most {(1 << 32) // _ROW_STRIDE - 1} with dropout, got {config.batch_size}")
    params = dict(config.loss_params)
    loss_fn = losses.make(config.loss, "keras", axis=-1, **params)
    compute_loss = _masked_loss(loss_fn, config.loss in _PER_SAMPLE)
    n_models = len(folds)
    widths = np.array([f.X_train.shape[1] for f in folds])
    n_features = int(widths.max())
    net = network(config.model, config.network_options)  # resolved once; the config is part of the cache key
    pooled = np.array([net.pooled_width(int(w)) for w in widths]) if net.has_conv else None
    if net.has_conv:
        _check_grouped_convolution()
    if net.has_conv and pooled.min() < 1:
        raise ValueError(f"model {net.name!r} needs at least 6 input features, got {int(widths.min())}")

    seeds = np.array([int(f.seed) for f in folds], dtype=np.int64)
    if initial is None:
        initial = [initial_weights(net, int(w), int(s)) for w, s in zip(widths, seeds)]
    start = [_pad_weights(net, w, n_features) for w in initial]
    stacked = [np.stack([w[j] for w in start]) for j in range(len(start[0]))]

    xtr, _ = _stack_data([f.X_train for f in folds], n_features)
    ytr, _ = _stack_data([np.asarray(f.y_train, dtype=np.float32) for f in folds], None)
    ls = float(config.label_smoothing)
    w0, w1 = config.class_weight
    xva, mva = _stack_data([f.X_val for f in folds], n_features)
    yva, _ = _stack_data([np.asarray(f.y_val, dtype=np.float32) for f in folds], None)
    stack = _Stack(net, n_features, pooled)
    runner = _Runner(config, stack, compute_loss, stacked, seeds,
                     train=(xtr, ytr * (1.0 - ls) + 0.5 * ls, np.where(ytr > 0.5, w1, w0).astype(np.float32)),
                     val=(xva, yva, mva))
    n_train = np.array([len(f.y_train) for f in folds])
    batch = int(config.batch_size)
    steps = int(np.ceil(n_train.max() / batch))

    # fixed-epoch models (refits) never stop early; they stop at their own epoch count
    fixed = np.array([f.epochs is not None for f in folds])
    budget = np.array([config.max_epochs if f.epochs is None else int(f.epochs) for f in folds])
    if (budget < 1).any() or (budget > config.max_epochs).any():
        raise ValueError(f"FoldData.epochs must lie in [1, max_epochs={config.max_epochs}], got {budget.tolist()}")
    has_val = xva.shape[1] > 0
    if not has_val and not fixed.all():
        raise ValueError("folds without validation rows need FoldData.epochs (nothing to stop early on)")
    stopper = EarlyStopping(n_models, config.patience)
    history = {k: np.full((n_models, config.max_epochs), np.nan) for k in ("loss", "val_loss", "val_auc")}
    epochs_run = np.zeros(n_models, dtype=int)
    for epoch in range(config.max_epochs):
        running = ~stopper.stopped & (epoch < budget)
        if not running.any():
            break
        # this epoch's batches: each model's own permutation, cut into batches of `batch`
        idx = np.zeros((steps, n_models, batch), dtype=np.int32)
        msk = np.zeros((steps, n_models, batch), dtype=np.float32)
        for i in np.flatnonzero(running):
            order = epoch_order(int(seeds[i]), epoch, int(n_train[i]))
            padded = np.zeros(steps * batch, dtype=np.int32)
            padded[:len(order)] = order
            idx[:, i] = padded.reshape(steps, batch)
            valid = np.zeros(steps * batch, dtype=np.float32)
            valid[:len(order)] = 1.0
            msk[:, i] = valid.reshape(steps, batch)
        train_loss = runner.train_epoch(idx, msk, running, epoch)
        auc = np.full(n_models, np.nan)
        history["loss"][running, epoch] = train_loss
        if has_val:
            val_prob, val_loss = runner.validate(running)
            auc[running] = roc_auc(yva[running] > 0.5, val_prob, mask=mva[running] > 0.5)
            history["val_loss"][running, epoch] = val_loss
            history["val_auc"][running, epoch] = auc[running]
        epochs_run[running] = epoch + 1
        improved = stopper.update(epoch, auc, running & ~fixed)
        stopper.best_epoch[running & fixed] = epoch  # a refit keeps its latest weights
        runner.save_best(improved | (running & fixed))
        if progress is not None:
            progress(epoch + 1)
    best = [b.numpy() for b in runner.best]

    # score each model's evaluation sets once, with its restored best weights
    predictions = {}
    for name in sorted({name for f in folds for name in f.evaluate}):
        have = [i for i, f in enumerate(folds) if name in f.evaluate]
        xe, _ = _stack_data([folds[i].evaluate[name] for i in have], n_features)
        probs = stack([tf.constant(b[have]) for b in best], tf.constant(xe), active=tf.constant(have)).numpy()
        for j, i in enumerate(have):
            predictions[(i, name)] = probs[j, :len(folds[i].evaluate[name])].astype(float)
    results = []
    for i, fold in enumerate(folds):
        run = int(epochs_run[i])
        results.append(FoldResult(
            best_epoch=int(stopper.best_epoch[i]),
            epochs_run=run,
            best_val_auc=float(stopper.best[i]) if np.isfinite(stopper.best[i]) and not fixed[i] else float("nan"),
            history={k: v[i, :run].copy() for k, v in history.items()},
            predictions={name: predictions[(i, name)] for name in fold.evaluate},
            weights=_unpad_weights(net, [b[i] for b in best], int(widths[i])) if keep_weights else None,
        ))
    return results


_GROUPED_CONVOLUTION_OK = []  # filled once per process by _check_grouped_convolution


def _check_grouped_convolution() -> None:
    """Fail clearly where TensorFlow cannot differentiate a grouped convolution.

    Without oneDNN, TensorFlow's CPU kernels cannot (and oneDNN is on by default only on
    CPUs with AVX-512-class features); ``import lossbook`` before TensorFlow turns it on.
    """
    if _GROUPED_CONVOLUTION_OK:
        return
    import tensorflow as tf

    kernel = tf.Variable(tf.ones((1, 1, 2)))
    try:
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(tf.nn.conv1d(tf.ones((1, 3, 2)), kernel, 1, "VALID"))
        tape.gradient(total, kernel)
    except tf.errors.InvalidArgumentError as error:
        raise RuntimeError(
            "this TensorFlow cannot train the stacked CNN here: its CPU kernels differentiate a grouped "
            "convolution only with oneDNN. Set TF_ENABLE_ONEDNN_OPTS=1 before TensorFlow is imported "
            "(importing lossbook before tensorflow or keras does it)") from error
    _GROUPED_CONVOLUTION_OK.append(True)


def _pool_mask(pooled_lengths, net: Network, n_features):
    width = net.pooled_width(n_features)
    mask = (np.arange(width)[None, :] < np.asarray(pooled_lengths)[:, None]).astype(np.float32)
    return mask[:, None, :, None]


class _Runner:
    """The stacked variables (weights, Adam moments, best weights) and the compiled epoch.

    Every compiled function takes a ``running`` mask over all M models and
    computes only those: it gathers their weights, data and optimiser state,
    trains them for one epoch and scatters the results back.
    """

    def __init__(self, config, stack, compute_loss, params, seeds, *, train, val):
        import tensorflow as tf

        self.config = config
        self.params = [tf.Variable(p) for p in params]
        self.m = [tf.Variable(np.zeros_like(p)) for p in params]
        self.v = [tf.Variable(np.zeros_like(p)) for p in params]
        self.best = [tf.Variable(p) for p in params]
        self.iterations = tf.Variable(np.zeros(len(seeds), dtype=np.float32))
        self.xtr, self.ytr, self.wtr = (tf.constant(a) for a in train)
        self.xva, self.yva, self.mva = (tf.constant(a) for a in val)
        self.seeds = tf.constant(np.asarray(seeds, dtype=np.int64) % (1 << 32), dtype=tf.uint32)
        self._compile(stack, compute_loss)

    def _compile(self, stack, compute_loss):
        import tensorflow as tf

        config = self.config
        lr, b1, b2, eps = config.learning_rate, config.beta_1, config.beta_2, config.epsilon

        def adam(params, ms, vs, iterations, grads, update):
            """One Keras Adam step for the models where ``update`` is true (others unchanged)."""
            upd_f = tf.cast(update, tf.float32)
            t = iterations + upd_f  # Keras' local_step = iterations + 1 for updated models
            t_safe = tf.maximum(t, 1.0)
            alpha = upd_f * lr * tf.sqrt(1.0 - tf.pow(b2, t_safe)) / (1.0 - tf.pow(b1, t_safe))
            # factors that are 0 for models not updated: their weights and moments stay exactly as they are
            c1, c2 = upd_f * (1.0 - b1), upd_f * (1.0 - b2)
            out_p, out_m, out_v = [], [], []
            for var, m, v, g in zip(params, ms, vs, grads):
                shape = (-1,) + (1,) * (len(var.shape) - 1)
                m_new = m + (g - m) * tf.reshape(c1, shape)
                v_new = v + (tf.square(g) - v) * tf.reshape(c2, shape)
                out_m.append(m_new)
                out_v.append(v_new)
                out_p.append(var - tf.reshape(alpha, shape) * m_new / (tf.sqrt(v_new) + eps))
            return out_p, out_m, out_v, t

        @tf.function(reduce_retracing=True)
        def train_epoch(idx, mask, running, epoch):
            active = tf.reshape(tf.where(running), [-1])
            params = [tf.gather(p, active) for p in self.params]
            ms = [tf.gather(m, active) for m in self.m]
            vs = [tf.gather(v, active) for v in self.v]
            iterations = tf.gather(self.iterations, active)
            xtr, ytr, wtr = (tf.gather(a, active) for a in (self.xtr, self.ytr, self.wtr))
            idx, mask = tf.gather(idx, active, axis=1), tf.gather(mask, active, axis=1)
            loss_sum = tf.zeros(tf.shape(active))
            count = tf.zeros(tf.shape(active))
            seeds = tf.gather(self.seeds, active)
            for s in tf.range(tf.shape(idx)[0]):
                # dropout stream per model: (model seed, epoch * 2^16 + step * 2^5), layer added inside
                counter = tf.cast(epoch, tf.uint32) * 65536 + tf.cast(s, tf.uint32) * 32
                dseeds = tf.stack([seeds, tf.fill(tf.shape(seeds), counter)], axis=1)
                x = tf.gather(xtr, idx[s], batch_dims=1)  # (m, B, F)
                y = tf.gather(ytr, idx[s], batch_dims=1)
                w = tf.gather(wtr, idx[s], batch_dims=1)
                with tf.GradientTape() as tape:
                    tape.watch(params)
                    p = stack(params, x, dseeds if config.dropout else None, active)
                    per_model = compute_loss(y, p, mask[s], w)
                    total = tf.reduce_sum(per_model)
                grads = tape.gradient(total, params)
                update = tf.reduce_sum(mask[s], axis=1) > 0  # a model with no rows in a step is not updated
                params, ms, vs, iterations = adam(params, ms, vs, iterations, grads, update)
                upd = tf.cast(update, tf.float32)
                loss_sum += per_model * upd
                count += upd
            where = active[:, None]
            for group, values in ((self.params, params), (self.m, ms), (self.v, vs)):
                for var, value in zip(group, values):
                    var.scatter_nd_update(where, value)
            self.iterations.scatter_nd_update(where, iterations)
            return loss_sum / tf.maximum(count, 1.0)

        @tf.function(reduce_retracing=True)
        def validate(running):
            active = tf.reshape(tf.where(running), [-1])
            yva, mva = tf.gather(self.yva, active), tf.gather(self.mva, active)
            p = stack([tf.gather(w, active) for w in self.params], tf.gather(self.xva, active), active=active)
            return p, compute_loss(yva, p, mva, tf.ones_like(yva))

        @tf.function(reduce_retracing=True)
        def save_best(improved):
            for var, best in zip(self.params, self.best):
                shape = (-1,) + (1,) * (len(var.shape) - 1)
                best.assign(tf.where(tf.reshape(improved, shape), var, best))

        self._train_epoch, self._validate, self._save_best = train_epoch, validate, save_best

    def train_epoch(self, idx, msk, running, epoch):
        """Mean training batch loss of each running model, shape (n_running,)."""
        import tensorflow as tf

        out = self._train_epoch(tf.constant(idx), tf.constant(msk), tf.constant(running), tf.constant(epoch, tf.int64))
        return out.numpy().astype(float)

    def validate(self, running):
        """Validation probabilities (n_running, N_val) and losses (n_running,) of the running models."""
        import tensorflow as tf

        p, loss = self._validate(tf.constant(running))
        return p.numpy(), loss.numpy().astype(float)

    def save_best(self, improved):
        import tensorflow as tf

        self._save_best(tf.constant(np.asarray(improved, dtype=bool)))
