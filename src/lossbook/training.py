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
* its own dropout masks (inverted dropout, as Keras), drawn from its own seed;
* Keras' Adam (bias correction as ``keras.optimizers.Adam``, per-model step count);
* early stopping on validation ROC-AUC with Keras' ``EarlyStopping`` rules
  (patience, ``restore_best_weights=True``); a stopped model is frozen.

Nothing a model computes depends on which other models share its batch, so a
fold trained alone gives the same result as in a batch (this is what lets the
study cache folds one by one).

Models whose inputs have different widths (column filters fitted per fold keep
different columns) are zero-padded to the widest; padded inputs meet zero
weights that never receive a gradient, and for the CNN the padded positions
after pooling are masked, so padding changes nothing.

Validation AUC is the exact (rank) ROC-AUC, not Keras' 200-threshold approximation.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from lossbook.models import architecture, parameter_shapes

__all__ = ["TrainConfig", "FoldData", "FoldResult", "train_folds", "initial_weights",
           "epoch_order", "EarlyStopping", "rank_auc", "derive_seed", "LOSS_NAMES"]

LOSS_NAMES = ("bce", "focal", "dice")
# Losses that are a mean of per-sample terms (padded rows can be masked out per sample).
_PER_SAMPLE = {"bce", "focal", "weighted_ce"}
import os as _os
_JIT = _os.environ.get("LOSSBOOK_XLA", "0") == "1"  # measured: XLA compiles slowly, no faster here


def derive_seed(*parts) -> int:
    """A 31-bit seed from any JSON-able parts (stable across runs and machines)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class TrainConfig:
    """What every model of one batched call shares.

    ``loss`` is a name known to :func:`lossbook.losses.make` ("bce", "focal",
    "dice"); ``loss_params`` its keyword parameters as sorted (name, value)
    pairs. ``class_weight`` is (weight of class 0, weight of class 1), applied as
    per-row weights of per-sample losses (Keras ``class_weight``); Dice has no
    per-sample term and ignores it. ``label_smoothing`` moves targets towards 0.5
    as Keras' ``label_smoothing`` does.
    """

    model: str = "mlp"
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
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class FoldData:
    """One model's data. Arrays are float (n_rows, n_features) and 0/1 (n_rows,).

    ``evaluate`` maps names (e.g. "test") to feature arrays that are scored
    once, with the restored best weights, after training.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    seed: int
    evaluate: dict = field(default_factory=dict)


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


def rank_auc(scores: np.ndarray, labels: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Exact ROC-AUC per row of ``scores`` (M, N) with ties counted half; NaN if one class.

    ``mask`` (M, N) marks real entries; padded entries are ignored.
    """
    from scipy.stats import rankdata

    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels).astype(bool)
    mask = np.ones_like(labels, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    filled = np.where(mask, scores, -np.inf)  # padded entries rank lowest, all tied
    ranks = rankdata(filled, axis=1) - (~mask).sum(axis=1, keepdims=True)
    pos = labels & mask
    n_pos = pos.sum(axis=1)
    n_neg = (mask & ~labels).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * pos).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


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


def initial_weights(model: str, n_features: int, seed: int) -> list[np.ndarray]:
    """Keras initial weights (Glorot-uniform kernels, zero biases) in Keras order.

    Layer ``i`` (counting every layer of the spec) uses ``GlorotUniform(seed + i)``,
    exactly as :func:`lossbook.models.build_keras` with the same ``seed``.
    """
    import keras

    layer_index = [i for i, layer in enumerate(architecture(model)) if layer.kind in ("dense", "conv1d")]
    weights = []
    for j, (kind, shape) in enumerate(parameter_shapes(model, n_features)):
        if kind == "kernel":
            init = keras.initializers.GlorotUniform(seed=seed + layer_index[j // 2])
            weights.append(np.asarray(init(shape), dtype=np.float32))
        else:
            weights.append(np.zeros(shape, dtype=np.float32))
    return weights


# -- the stacked network ------------------------------------------------------------


class _Stack:
    """Forward pass of M stacked networks (TensorFlow ops)."""

    def __init__(self, model: str, n_features: int, pooled_lengths: np.ndarray | None):
        import tensorflow as tf

        self.spec = architecture(model)
        self.n_features = n_features
        self.pool_mask = None
        if pooled_lengths is not None:  # CNN: mask positions beyond each model's own length
            width = _pooled_width(model, n_features)
            mask = (np.arange(width)[None, :] < pooled_lengths[:, None]).astype(np.float32)
            self.pool_mask = tf.constant(mask[:, None, :, None])

    def __call__(self, params, x, dropout_seeds=None):
        """x: (M, B, F) -> probabilities (M, B). ``dropout_seeds``: (M, 2) int tensor or None."""
        import tensorflow as tf

        h = x
        n_models = len(params[0]) if isinstance(params[0], list) else params[0].shape[0]
        pi = 0
        for li, layer in enumerate(self.spec):
            if layer.kind == "reshape":
                # sequence layout for the convolutions: (B, length, M * channels), so that
                # the M models' convolutions run as one grouped convolution (groups = M)
                h = tf.transpose(h, (1, 2, 0))
            elif layer.kind == "conv1d":
                kernel, bias = params[pi], params[pi + 1]
                pi += 2
                k, filters = layer.kernel, int(layer.size)
                channels = kernel.shape[2]
                # (M, k, C_in, C_out) -> (k, C_in, M * C_out): model m's filters form group m
                filt = tf.reshape(tf.transpose(kernel, (1, 2, 0, 3)), (k, channels, n_models * filters))
                h = tf.nn.conv1d(h, filt, stride=1, padding="VALID") + tf.reshape(bias, (-1,))
                h = _activate(h, layer.activation)
            elif layer.kind == "maxpool":
                p = int(layer.size)
                h = tf.nn.max_pool1d(h, p, p, "VALID")  # (B, L', M * C)
                width, channels = h.shape[1], h.shape[2] // n_models
                h = tf.transpose(tf.reshape(h, (tf.shape(h)[0], width, n_models, channels)), (2, 0, 1, 3))
                if self.pool_mask is not None:
                    h = h * self.pool_mask
            elif layer.kind == "flatten":
                h = tf.reshape(h, (n_models, tf.shape(h)[1], h.shape[2] * h.shape[3]))
            elif layer.kind == "dense":
                kernel, bias = params[pi], params[pi + 1]
                pi += 2
                h = _activate(tf.matmul(h, kernel) + bias[:, None, :], layer.activation)
            elif layer.kind == "dropout" and dropout_seeds is not None and layer.size > 0:
                rate = float(layer.size)
                shape = tf.shape(h)[1:]
                if len(h.shape) == 4:
                    # (B, L, C): draw position-major, so a model's mask does not depend on how far
                    # its batch-mates pad the sequence length
                    shape = tf.stack([shape[1], shape[0], shape[2]])
                keep = tf.stack([
                    tf.random.stateless_uniform(shape, seed=dropout_seeds[m] + tf.constant([0, li], tf.int64)) >= rate
                    for m in range(n_models)
                ])
                if len(h.shape) == 4:
                    keep = tf.transpose(keep, (0, 2, 1, 3))
                h = tf.where(keep, h / (1.0 - rate), tf.zeros_like(h))
        return h[..., 0]


def _activate(h, name):
    import tensorflow as tf

    if name == "relu":
        return tf.nn.relu(h)
    if name == "sigmoid":
        return tf.math.sigmoid(h)
    return h


def _pooled_width(model: str, n_features: int) -> int:
    width = n_features
    for layer in architecture(model):
        if layer.kind == "conv1d":
            width -= layer.kernel - 1
        elif layer.kind == "maxpool":
            width //= int(layer.size)
    return width


def _pad_weights(model: str, weights: list[np.ndarray], n_features: int) -> list[np.ndarray]:
    """Zero-pad one model's weights to the shapes for ``n_features`` inputs."""
    target = [shape for _, shape in parameter_shapes(model, n_features)]
    padded = []
    for w, shape in zip(weights, target):
        out = np.zeros(shape, dtype=np.float32)
        out[tuple(slice(0, s) for s in w.shape)] = w
        padded.append(out)
    return padded


def _unpad_weights(model: str, weights: list[np.ndarray], n_features: int) -> list[np.ndarray]:
    target = [shape for _, shape in parameter_shapes(model, n_features)]
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
                initial: list[list[np.ndarray]] | None = None, compact_below: float = 0.5,
                progress=None) -> list[FoldResult]:
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
    compact_below : float
        When the share of still-running models falls below this, the finished
        ones are dropped from the stack (fewer models per step, same results).
    progress : callable, optional
        Called with the number of epochs finished by the slowest model.
    """
    import tensorflow as tf

    from lossbook import losses

    if not folds:
        return []
    params = dict(config.loss_params)
    loss_fn = losses.make(config.loss, "keras", axis=-1, **params)
    compute_loss = _masked_loss(loss_fn, config.loss in _PER_SAMPLE)
    n_models = len(folds)
    widths = np.array([f.X_train.shape[1] for f in folds])
    n_features = int(widths.max())
    is_cnn = any(layer.kind == "conv1d" for layer in architecture(config.model))
    pooled = np.array([_pooled_width(config.model, int(w)) for w in widths]) if is_cnn else None
    if is_cnn and pooled.min() < 1:
        raise ValueError(f"model 'cnn' needs at least 6 input features, got {int(widths.min())}")

    seeds = np.array([int(f.seed) for f in folds], dtype=np.int64)
    if initial is None:
        initial = [initial_weights(config.model, int(w), int(s)) for w, s in zip(widths, seeds)]
    start = [_pad_weights(config.model, w, n_features) for w in initial]
    state = {
        "params": [np.stack([w[j] for w in start]) for j in range(len(start[0]))],
    }
    state["m"] = [np.zeros_like(p) for p in state["params"]]
    state["v"] = [np.zeros_like(p) for p in state["params"]]
    state["best"] = [p.copy() for p in state["params"]]
    state["iterations"] = np.zeros(n_models, dtype=np.float32)

    xtr, mtr = _stack_data([f.X_train for f in folds], n_features)
    ytr, _ = _stack_data([np.asarray(f.y_train, dtype=np.float32) for f in folds], None)
    ls = float(config.label_smoothing)
    ytr_target = ytr * (1.0 - ls) + 0.5 * ls
    w0, w1 = config.class_weight
    wtr = np.where(ytr > 0.5, w1, w0).astype(np.float32)
    xva, mva = _stack_data([f.X_val for f in folds], n_features)
    yva, _ = _stack_data([np.asarray(f.y_val, dtype=np.float32) for f in folds], None)
    n_train = np.array([len(f.y_train) for f in folds])
    batch = int(config.batch_size)
    steps = int(np.ceil(n_train.max() / batch))

    stopper = EarlyStopping(n_models, config.patience)
    history = {k: np.full((n_models, config.max_epochs), np.nan) for k in ("loss", "val_loss", "val_auc")}
    epochs_run = np.zeros(n_models, dtype=int)
    finished_weights: dict[int, list[np.ndarray]] = {}

    active_ids = np.arange(n_models)  # models currently in the stack
    runner = None
    for epoch in range(config.max_epochs):
        running = ~stopper.stopped[active_ids]
        if not running.any():
            break
        if runner is None or running.mean() < compact_below:
            keep = active_ids[running] if runner is not None else active_ids
            if runner is not None:
                for local, gid in enumerate(active_ids):
                    if stopper.stopped[gid]:
                        finished_weights[gid] = [np.asarray(b[local]) for b in runner.best]
                sel = np.flatnonzero(running)
                runner.select(sel)
            else:
                runner = _Runner(config, state, pooled, compute_loss, n_features)
            active_ids = keep
            runner.set_data(xtr[active_ids], ytr_target[active_ids], wtr[active_ids], mtr[active_ids],
                            xva[active_ids], yva[active_ids], mva[active_ids], seeds[active_ids])
            running = np.ones(len(active_ids), dtype=bool)
        # this epoch's batches: each model's own permutation, cut into batches of `batch`
        idx = np.zeros((steps, len(active_ids), batch), dtype=np.int32)
        msk = np.zeros((steps, len(active_ids), batch), dtype=np.float32)
        for local, gid in enumerate(active_ids):
            order = epoch_order(int(seeds[gid]), epoch, int(n_train[gid]))
            padded = np.zeros(steps * batch, dtype=np.int32)
            padded[:len(order)] = order
            idx[:, local] = padded.reshape(steps, batch)
            valid = np.zeros(steps * batch, dtype=np.float32)
            valid[:len(order)] = 1.0
            msk[:, local] = valid.reshape(steps, batch)
        train_loss = runner.train_epoch(idx, msk, running, epoch)
        val_prob, val_loss = runner.validate()
        auc = rank_auc(val_prob, yva[active_ids] > 0.5, mva[active_ids] > 0.5)
        gl = active_ids[running]
        history["loss"][gl, epoch] = train_loss[running]
        history["val_loss"][gl, epoch] = val_loss[running]
        history["val_auc"][gl, epoch] = auc[running]
        epochs_run[gl] = epoch + 1
        full_running = np.zeros(n_models, dtype=bool)
        full_running[gl] = True
        full_auc = np.full(n_models, np.nan)
        full_auc[active_ids] = auc
        improved = stopper.update(epoch, full_auc, full_running)
        runner.save_best(improved[active_ids])
        if progress is not None:
            progress(epoch + 1)
    for local, gid in enumerate(active_ids):
        finished_weights[gid] = [np.asarray(b[local]) for b in runner.best]

    # score each model's evaluation sets once, with its restored best weights
    results = []
    names = sorted({name for f in folds for name in f.evaluate})
    best_stack = [np.stack([finished_weights[g][j] for g in range(n_models)]) for j in range(len(start[0]))]
    predictions = {}
    stack = _Stack(config.model, n_features, pooled)
    for name in names:
        have = [i for i, f in enumerate(folds) if name in f.evaluate]
        xe, _ = _stack_data([folds[i].evaluate[name] for i in have], n_features)
        sub = [tf.constant(p[have]) for p in best_stack]
        if stack.pool_mask is not None:
            stack.pool_mask = tf.constant(_pool_mask(pooled[have], config.model, n_features))
        probs = stack(sub, tf.constant(xe)).numpy()
        for j, i in enumerate(have):
            predictions[(i, name)] = probs[j, :len(folds[i].evaluate[name])].astype(float)
    for i, fold in enumerate(folds):
        run = int(epochs_run[i])
        results.append(FoldResult(
            best_epoch=int(stopper.best_epoch[i]),
            epochs_run=run,
            best_val_auc=float(stopper.best[i]) if np.isfinite(stopper.best[i]) else float("nan"),
            history={k: v[i, :run].copy() for k, v in history.items()},
            predictions={name: predictions[(i, name)] for name in fold.evaluate},
            weights=_unpad_weights(config.model, finished_weights[i], int(widths[i])) if keep_weights else None,
        ))
    return results


def _pool_mask(pooled_lengths, model, n_features):
    width = _pooled_width(model, n_features)
    mask = (np.arange(width)[None, :] < np.asarray(pooled_lengths)[:, None]).astype(np.float32)
    return mask[:, None, :, None]


class _Runner:
    """Holds the stacked variables and the compiled epoch function for the current stack."""

    def __init__(self, config, state, pooled, compute_loss, n_features):
        import tensorflow as tf

        self.config = config
        self.model = config.model
        self.n_features = n_features
        self.pooled_all = pooled
        self.compute_loss = compute_loss
        self.params = [tf.Variable(p) for p in state["params"]]
        self.m = [tf.Variable(p) for p in state["m"]]
        self.v = [tf.Variable(p) for p in state["v"]]
        self.best = [tf.Variable(p) for p in state["best"]]
        self.iterations = tf.Variable(state["iterations"])
        self.pooled = pooled
        self._compile()

    def select(self, keep: np.ndarray) -> None:
        """Keep only the models at positions ``keep`` (a new, smaller stack)."""
        import tensorflow as tf

        for group in (self.params, self.m, self.v, self.best):
            for j, var in enumerate(group):
                group[j] = tf.Variable(tf.gather(var, keep))
        self.iterations = tf.Variable(tf.gather(self.iterations, keep))
        if self.pooled is not None:
            self.pooled = self.pooled[keep]
        self._compile()

    def set_data(self, xtr, ytr, wtr, mtr, xva, yva, mva, seeds):
        import tensorflow as tf

        self.xtr, self.ytr, self.wtr = tf.constant(xtr), tf.constant(ytr), tf.constant(wtr)
        self.xva, self.yva, self.mva = tf.constant(xva), tf.constant(yva), tf.constant(mva)
        self.seeds = tf.constant(seeds, dtype=tf.int64)

    def _compile(self):
        import tensorflow as tf

        config = self.config
        stack = _Stack(self.model, self.n_features, self.pooled)
        compute_loss = self.compute_loss
        lr, b1, b2, eps = config.learning_rate, config.beta_1, config.beta_2, config.epsilon
        batch = config.batch_size

        def step(idx, mask, running, dropout_seeds):
            x = tf.gather(self.xtr, idx, batch_dims=1)  # (M, B, F)
            y = tf.gather(self.ytr, idx, batch_dims=1)
            w = tf.gather(self.wtr, idx, batch_dims=1)
            with tf.GradientTape() as tape:
                p = stack(self.params, x, dropout_seeds if config.dropout else None)
                per_model = compute_loss(y, p, mask, w)
                total = tf.reduce_sum(per_model)
            grads = tape.gradient(total, self.params)
            update = running & (tf.reduce_sum(mask, axis=1) > 0)
            upd_f = tf.cast(update, tf.float32)
            t = self.iterations + upd_f  # Keras' local_step = iterations + 1 for updated models
            t_safe = tf.maximum(t, 1.0)
            alpha = lr * tf.sqrt(1.0 - tf.pow(b2, t_safe)) / (1.0 - tf.pow(b1, t_safe))
            for var, m, v, g in zip(self.params, self.m, self.v, grads):
                shape = (-1,) + (1,) * (len(var.shape) - 1)
                u = tf.reshape(update, shape)
                m_new = m + (g - m) * (1.0 - b1)
                v_new = v + (tf.square(g) - v) * (1.0 - b2)
                step_size = tf.reshape(alpha, shape) * m_new / (tf.sqrt(v_new) + eps)
                m.assign(tf.where(u, m_new, m))
                v.assign(tf.where(u, v_new, v))
                var.assign(tf.where(u, var - step_size, var))
            self.iterations.assign(t)
            return per_model, upd_f

        @tf.function(reduce_retracing=True, jit_compile=_JIT)
        def train_epoch(idx, mask, running, epoch):
            n_models = tf.shape(idx)[1]
            loss_sum = tf.zeros([n_models])
            count = tf.zeros([n_models])
            for s in tf.range(tf.shape(idx)[0]):
                # dropout seed per model: (model seed, epoch * 2^16 + step * 2^5), layer added inside
                counter = tf.cast(epoch, tf.int64) * 65536 + tf.cast(s, tf.int64) * 32
                dseeds = tf.stack([self.seeds, tf.fill(tf.shape(self.seeds), counter)], axis=1)
                per_model, upd = step(idx[s], mask[s], running, dseeds)
                loss_sum += per_model * upd
                count += upd
            return loss_sum / tf.maximum(count, 1.0)

        @tf.function(reduce_retracing=True)
        def validate():
            p = stack(self.params, self.xva)
            return p, compute_loss(self.yva, p, self.mva, tf.ones_like(self.yva))

        @tf.function(reduce_retracing=True)
        def save_best(improved):
            for var, best in zip(self.params, self.best):
                shape = (-1,) + (1,) * (len(var.shape) - 1)
                best.assign(tf.where(tf.reshape(improved, shape), var, best))

        self._train_epoch, self._validate, self._save_best = train_epoch, validate, save_best

    def train_epoch(self, idx, msk, running, epoch):
        import tensorflow as tf

        out = self._train_epoch(tf.constant(idx), tf.constant(msk), tf.constant(running), tf.constant(epoch, tf.int64))
        return out.numpy().astype(float)

    def validate(self):
        p, loss = self._validate()
        return p.numpy(), loss.numpy().astype(float)

    def save_best(self, improved):
        import tensorflow as tf

        self._save_best(tf.constant(np.asarray(improved, dtype=bool)))
