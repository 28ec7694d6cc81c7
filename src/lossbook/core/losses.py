"""Losses for imbalanced classification, one definition for NumPy, Keras and torch.

One entry point, :func:`make`::

    loss = make("focal", "keras", gamma=2.0, alpha=0.25)
    model.compile(optimizer="adam", loss=loss)

Each loss is written once, against a small table of array operations
(:class:`_Ops`), and evaluated with NumPy (the float64 reference), ``keras.ops``
(any Keras backend, graph mode included) or torch (differentiable by autograd).

Conventions shared by every loss
--------------------------------
* **Inputs are probabilities** unless ``from_logits=True``. Probabilities are
  clipped to ``[clip_eps, 1 - clip_eps]`` with ``clip_eps = 1e-7``, Keras's
  ``backend.epsilon()``, exactly as Keras does before taking a logarithm. So a
  confident mistake costs at most ``-log(1e-7) = 16.118`` per example (torch's
  ``binary_cross_entropy`` instead caps the log at -100). Clipping also stops the
  gradient outside that range, as in Keras. With ``from_logits=True`` the
  log-sigmoid / log-softmax forms are used, which need no clipping.
* **Shapes.** Binary losses take ``y_true`` and ``y_pred`` of the same shape,
  e.g. ``(batch,)`` or ``(batch, 1)`` (Keras). When the ranks differ by one and
  the longer one ends in a size-1 axis, that axis is squeezed (as Keras's loss
  wrapper does).
* **Labels are checked** where their values are known: the binary losses
  refuse ``y_true`` values other than 0 and 1 (so no soft targets; use
  ``label_smoothing``), ``weighted_ce``/``focal_ce`` refuse integer labels outside
  ``0 .. k-1`` (and one-hot values outside [0, 1]), raising ``ValueError``.
  NumPy and torch check every call; Keras checks in eager mode and cannot
  while a graph is traced (``tf.function``, ``jax.jit``): there the caller
  guarantees the labels (the batched trainer's labels are 0/1 by construction).
* **Reduction.** ``axis=None`` (default) returns the mean over every element, a
  scalar. ``axis=k`` (an int or tuple) reduces only over those axes: with
  ``y_pred`` of shape ``(n_models, batch)`` and ``axis=-1`` the result has shape
  ``(n_models,)``, one loss per network, which is what batched trainers need.
  For Dice the *sums* run over ``axis`` (over everything when ``None``). For
  ``weighted_ce`` the class axis is always the last one and ``axis`` names the
  batch axes of the per-example losses (``y_pred.shape[:-1]``).
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: Probability clipping, Keras's ``backend.epsilon()``.
CLIP_EPS = 1e-7

NAMES = ("bce", "focal", "dice", "weighted_ce", "focal_ce")
BACKENDS = ("numpy", "keras", "torch")

_ALLOWED_PARAMS = {
    "bce": {"pos_weight": None, "label_smoothing": 0.0},
    "focal": {"gamma": 2.0, "alpha": 0.25},
    "dice": {"eps": 1.0},
    "weighted_ce": {"class_weights": None, "y_train": None, "gamma": 0.0, "normalize": "batch"},
    "focal_ce": {"class_weights": None, "y_train": None, "gamma": 2.0, "normalize": "batch"},
}


# --------------------------------------------------------------------------- ops
class _Ops:
    """The handful of array operations the losses need, for one backend."""

    name = "abstract"

    def prepare(self, y_true, y_pred):  # -> (y_true cast to y_pred's dtype, y_pred)
        raise NotImplementedError

    @staticmethod
    def last_dim(x):
        return x.shape[-1]  # arrays of every backend have a shape tuple


class _NumpyOps(_Ops):
    name = "numpy"

    def prepare(self, y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        return np.asarray(y_true, dtype=np.float64), y_pred

    def labels(self, y):
        return np.asarray(y).astype(np.int64)

    @staticmethod
    def concrete(y):
        return np.asarray(y)

    clip = staticmethod(np.clip)
    log = staticmethod(np.log)
    power = staticmethod(np.power)

    @staticmethod
    def sigmoid(x):
        from scipy.special import expit

        return expit(x)

    @staticmethod
    def log_sigmoid(x):
        return -np.logaddexp(0.0, -x)

    @staticmethod
    def log_softmax(x):
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    @staticmethod
    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    @staticmethod
    def sum(x, axis=None):
        return np.sum(x, axis=axis)

    @staticmethod
    def mean(x, axis=None):
        return np.mean(x, axis=axis)

    @staticmethod
    def squeeze_last(x):
        return np.squeeze(x, axis=-1)

    @staticmethod
    def one_hot(labels, n, like):
        return np.eye(n, dtype=np.float64)[labels]

    @staticmethod
    def constant(values, like):
        return np.asarray(values, dtype=np.float64)

    @staticmethod
    def ndim(x):
        return x.ndim


class _KerasOps(_Ops):
    name = "keras"

    def __init__(self):
        from keras import ops

        self.ops = ops

    def prepare(self, y_true, y_pred):
        ops = self.ops
        y_pred = ops.convert_to_tensor(y_pred)
        if "float" not in str(y_pred.dtype):
            y_pred = ops.cast(y_pred, "float32")
        return ops.cast(y_true, y_pred.dtype), y_pred

    def labels(self, y):
        return self.ops.cast(self.ops.convert_to_tensor(y), "int32")

    def concrete(self, y):
        """``y`` as a NumPy array in eager mode; None while tracing a graph (no check there)."""
        import keras

        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            if not tf.executing_eagerly():
                return None
        elif backend == "jax":
            import jax

            if isinstance(y, jax.core.Tracer):
                return None
        return np.asarray(self.ops.convert_to_numpy(y))

    def clip(self, x, lo, hi):
        return self.ops.clip(x, lo, hi)

    def log(self, x):
        return self.ops.log(x)

    def power(self, x, p):
        return self.ops.power(x, p)

    def sigmoid(self, x):
        return self.ops.sigmoid(x)

    def log_sigmoid(self, x):
        return self.ops.log_sigmoid(x)

    def log_softmax(self, x):
        return self.ops.log_softmax(x, axis=-1)

    def softmax(self, x):
        return self.ops.softmax(x, axis=-1)

    def sum(self, x, axis=None):
        return self.ops.sum(x, axis=axis)

    def mean(self, x, axis=None):
        return self.ops.mean(x, axis=axis)

    def squeeze_last(self, x):
        return self.ops.squeeze(x, axis=-1)

    def one_hot(self, labels, n, like):
        return self.ops.cast(self.ops.one_hot(labels, n), like.dtype)

    def constant(self, values, like):
        return self.ops.cast(self.ops.convert_to_tensor(np.asarray(values)), like.dtype)

    @staticmethod
    def ndim(x):
        return len(x.shape)


class _TorchOps(_Ops):
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch

    def prepare(self, y_true, y_pred):
        torch = self.torch
        y_pred = torch.as_tensor(y_pred)
        if not torch.is_floating_point(y_pred):
            y_pred = y_pred.to(torch.get_default_dtype())
        y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
        return y_true, y_pred

    def labels(self, y):
        return self.torch.as_tensor(y).long()

    def concrete(self, y):
        return y.detach().cpu().numpy()

    def outside(self, y, n_classes):
        y = y.detach()
        return bool(((y < 0) | (y > n_classes - 1) | (y != self.torch.round(y))).any())

    def clip(self, x, lo, hi):
        return self.torch.clamp(x, lo, hi)

    def log(self, x):
        return self.torch.log(x)

    def power(self, x, p):
        return self.torch.pow(x, p)

    def sigmoid(self, x):
        return self.torch.sigmoid(x)

    def log_sigmoid(self, x):
        return self.torch.nn.functional.logsigmoid(x)

    def log_softmax(self, x):
        return self.torch.log_softmax(x, dim=-1)

    def softmax(self, x):
        return self.torch.softmax(x, dim=-1)

    def sum(self, x, axis=None):
        return self.torch.sum(x) if axis is None else self.torch.sum(x, dim=axis)

    def mean(self, x, axis=None):
        return self.torch.mean(x) if axis is None else self.torch.mean(x, dim=axis)

    def squeeze_last(self, x):
        return self.torch.squeeze(x, -1)

    def one_hot(self, labels, n, like):
        return self.torch.nn.functional.one_hot(labels.to(like.device), n).to(like.dtype)

    def constant(self, values, like):
        return self.torch.as_tensor(np.asarray(values), dtype=like.dtype, device=like.device)

    @staticmethod
    def ndim(x):
        return x.dim()


def _ops_for(backend: str) -> _Ops:
    if backend == "numpy":
        return _NumpyOps()
    if backend == "keras":
        return _KerasOps()
    return _TorchOps()


# ----------------------------------------------------------------- shared pieces
def _check_labels(o: _Ops, y, n_classes: int | None, what: str) -> None:
    """Refuse labels outside ``0 .. n_classes-1`` (or non-integers) where the values are known.

    NumPy and torch always check; Keras checks in eager mode and skips while a
    graph is traced (inside ``tf.function`` or ``jax.jit`` the values are not known).
    """
    if n_classes is None:
        return
    if isinstance(o, _TorchOps):  # stay on the tensor's device; copy only to name the bad values
        if not o.outside(y, n_classes):
            return
    values = o.concrete(y)
    if values is None or not np.any((values < 0) | (values > n_classes - 1) | (values != np.round(values))):
        return
    from lossbook.core.validate import class_labels

    class_labels(values, f"{what}: y_true", n_classes=n_classes, ndim_any=True)


def _align(o: _Ops, y_true, y_pred):
    """Cast and squeeze a trailing size-1 axis so both have the same rank."""
    y_true, y_pred = o.prepare(y_true, y_pred)
    if o.ndim(y_pred) == o.ndim(y_true) + 1 and o.last_dim(y_pred) == 1:
        y_pred = o.squeeze_last(y_pred)
    elif o.ndim(y_true) == o.ndim(y_pred) + 1 and o.last_dim(y_true) == 1:
        y_true = o.squeeze_last(y_true)
    if o.ndim(y_true) != o.ndim(y_pred):
        raise ValueError(
            f"y_true has rank {o.ndim(y_true)} and y_pred rank {o.ndim(y_pred)}; binary losses need "
            "the same shape (a trailing axis of size 1 on one of them is allowed)"
        )
    return y_true, y_pred


def _log_probs(o: _Ops, y_pred, from_logits: bool):
    """(p, log p, log(1-p)) for binary predictions; clipped unless from logits."""
    if from_logits:
        return o.sigmoid(y_pred), o.log_sigmoid(y_pred), o.log_sigmoid(-y_pred)
    p = o.clip(y_pred, CLIP_EPS, 1.0 - CLIP_EPS)
    return p, o.log(p), o.log(1.0 - p)


# ------------------------------------------------------------------------ losses
def _bce(o, y_true, y_pred, *, axis, from_logits, pos_weight, label_smoothing):
    y, y_pred = _align(o, y_true, y_pred)
    _check_labels(o, y, 2, "bce")
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _, log_p, log_q = _log_probs(o, y_pred, from_logits)
    w = 1.0 if pos_weight is None else pos_weight
    return o.mean(-(w * y * log_p + (1.0 - y) * log_q), axis=axis)


def _focal(o, y_true, y_pred, *, axis, from_logits, gamma, alpha):
    y, y_pred = _align(o, y_true, y_pred)
    _check_labels(o, y, 2, "focal")
    p, log_p, log_q = _log_probs(o, y_pred, from_logits)
    bce = -(y * log_p + (1.0 - y) * log_q)
    p_t = y * p + (1.0 - y) * (1.0 - p)
    loss = o.power(1.0 - p_t, gamma) * bce if gamma else bce
    if alpha is not None:
        loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss
    return o.mean(loss, axis=axis)


def _dice(o, y_true, y_pred, *, axis, from_logits, eps):
    y, y_pred = _align(o, y_true, y_pred)
    _check_labels(o, y, 2, "dice")
    p = o.sigmoid(y_pred) if from_logits else y_pred
    overlap = o.sum(p * y, axis=axis)
    return 1.0 - (2.0 * overlap + eps) / (o.sum(p, axis=axis) + o.sum(y, axis=axis) + eps)


def _weighted_ce(o, y_true, y_pred, *, axis, from_logits, class_weights, gamma, normalize):
    y_true, y_pred = o.prepare(y_true, y_pred)
    n_classes = o.last_dim(y_pred)
    if class_weights is not None and n_classes is not None and len(class_weights) != n_classes:
        raise ValueError(
            f"class_weights has {len(class_weights)} entries but y_pred has {n_classes} classes "
            "on its last axis"
        )
    if o.ndim(y_true) == o.ndim(y_pred) and o.last_dim(y_true) == n_classes and n_classes != 1:
        onehot = y_true  # one-hot (or soft) labels
        values = o.concrete(onehot)
        if values is not None and values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError(f"weighted_ce: one-hot y_true must hold values in [0, 1]; found "
                             f"[{values.min():.4g}, {values.max():.4g}]")
    else:
        labels = y_true
        if o.ndim(y_true) == o.ndim(y_pred):  # integer labels with a trailing size-1 axis
            labels = o.squeeze_last(y_true)
        if o.ndim(labels) != o.ndim(y_pred) - 1:
            raise ValueError(
                "weighted_ce: y_true must be integer labels of shape y_pred.shape[:-1] "
                "(optionally with a trailing 1) or one-hot labels of y_pred's shape"
            )
        _check_labels(o, labels, n_classes, "weighted_ce")
        onehot = o.one_hot(o.labels(labels), n_classes, y_pred)
    if from_logits:
        log_p = o.log_softmax(y_pred)
        p = o.softmax(y_pred)
    else:
        p = o.clip(y_pred, CLIP_EPS, 1.0 - CLIP_EPS)
        log_p = o.log(p)
    terms = -onehot * log_p
    if gamma:
        terms = o.power(1.0 - p, gamma) * terms
    if class_weights is not None:
        w = o.constant(class_weights, y_pred)
        terms = terms * w
        example_weight = o.sum(onehot * w, axis=-1)
    per_example = o.sum(terms, axis=-1)
    if normalize == "weights" and class_weights is not None:
        return o.sum(per_example, axis=axis) / o.sum(example_weight, axis=axis)
    return o.mean(per_example, axis=axis)


_IMPL = {"bce": _bce, "focal": _focal, "dice": _dice, "weighted_ce": _weighted_ce, "focal_ce": _weighted_ce}


# -------------------------------------------------------------------- validation
def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and np.isfinite(x)


def _check_params(name: str, params: dict) -> dict:
    allowed = _ALLOWED_PARAMS[name]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for loss {name!r}; allowed: {sorted(allowed)} "
            "(plus axis and from_logits)"
        )
    p = {**allowed, **params}
    if name == "bce":
        if p["pos_weight"] is not None and not (_is_number(p["pos_weight"]) and p["pos_weight"] > 0):
            raise ValueError(f"pos_weight must be None or a number > 0, got {p['pos_weight']!r}")
        if not (_is_number(p["label_smoothing"]) and 0 <= p["label_smoothing"] < 1):
            raise ValueError(f"label_smoothing must be in [0, 1), got {p['label_smoothing']!r}")
        p["pos_weight"] = None if p["pos_weight"] is None else float(p["pos_weight"])
        p["label_smoothing"] = float(p["label_smoothing"])
    if name in ("focal", "weighted_ce", "focal_ce"):
        if not (_is_number(p["gamma"]) and p["gamma"] >= 0):
            raise ValueError(f"gamma must be a number >= 0, got {p['gamma']!r}")
        p["gamma"] = float(p["gamma"])
    if name == "focal":
        if p["alpha"] is not None and not (_is_number(p["alpha"]) and 0 <= p["alpha"] <= 1):
            raise ValueError(f"alpha must be None or a number in [0, 1], got {p['alpha']!r}")
        p["alpha"] = None if p["alpha"] is None else float(p["alpha"])
    if name == "dice":
        if not (_is_number(p["eps"]) and p["eps"] > 0):
            raise ValueError(f"eps must be a number > 0, got {p['eps']!r}")
        p["eps"] = float(p["eps"])
    if name in ("weighted_ce", "focal_ce"):
        if p["normalize"] not in ("batch", "weights"):
            raise ValueError(f"normalize must be 'batch' or 'weights', got {p['normalize']!r}")
        p["class_weights"] = _resolve_class_weights(p.pop("class_weights"), p.pop("y_train"))
    return p


def _resolve_class_weights(class_weights, y_train):
    if class_weights is None:
        if y_train is not None:
            raise ValueError("y_train is only used with class_weights='balanced'")
        return None
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise ValueError(f"class_weights must be an array of weights or 'balanced', got {class_weights!r}")
        if y_train is None:
            raise ValueError("class_weights='balanced' needs y_train= (the training labels)")
        return balanced_class_weights(y_train)
    if y_train is not None:
        raise ValueError("y_train is only used with class_weights='balanced'")
    w = np.asarray(class_weights, dtype=float)
    if w.ndim != 1 or w.size < 2:
        raise ValueError(f"class_weights must be a 1-D array with one weight per class (>= 2), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"class_weights must be finite, >= 0 and not all zero, got {w.tolist()}")
    return tuple(float(v) for v in w)


def balanced_class_weights(y_train) -> tuple[float, ...]:
    """``n / (k * count_c)`` per class via scikit-learn's ``compute_class_weight("balanced")``.

    ``y_train``: integer labels ``0..k-1`` of shape ``(n,)`` or one-hot ``(n, k)``.
    Every class must occur (a class with no training example has no defined weight).
    """
    from sklearn.utils.class_weight import compute_class_weight

    y = np.asarray(y_train)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    if y.size == 0 or not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("y_train must be a non-empty array of integer class labels 0..k-1 (or one-hot)")
    y = y.astype(int)
    classes = np.unique(y)
    if classes[0] != 0 or not np.array_equal(classes, np.arange(classes[-1] + 1)):
        raise ValueError(
            f"y_train must contain every class 0..k-1 at least once; found classes {classes.tolist()}"
        )
    return tuple(float(v) for v in compute_class_weight("balanced", classes=classes, y=y))


def _check_axis(axis):
    if axis is None or (isinstance(axis, numbers.Integral) and not isinstance(axis, bool)):
        return None if axis is None else int(axis)
    if isinstance(axis, (tuple, list)) and axis and all(isinstance(a, numbers.Integral) for a in axis):
        return tuple(int(a) for a in axis)
    raise ValueError(f"axis must be None, an int or a tuple of ints, got {axis!r}")


# -------------------------------------------------------------------- public API
def make(name: str, backend: str = "numpy", *, axis=None, from_logits: bool = False, **params) -> Callable:
    """Build ``loss(y_true, y_pred)`` for one loss and one backend.

    Parameters
    ----------
    name : {"bce", "focal", "dice", "weighted_ce", "focal_ce"}
        ``"bce"``
            Binary cross-entropy ``-(w*y*log p + (1-y)*log(1-p))``. ``pos_weight``
            (default None = 1) multiplies the positive term, like torch's
            ``BCEWithLogitsLoss(pos_weight=...)``; ``label_smoothing`` in [0, 1)
            replaces y by ``y*(1-s) + s/2`` (Keras's convention).
        ``"focal"``
            Binary focal loss of Lin et al. (2017),
            ``-alpha_t * (1 - p_t)**gamma * log(p_t)`` with ``p_t = p`` for
            positives and ``1 - p`` for negatives; ``gamma=2.0``; ``alpha=0.25``
            weights positives by alpha and negatives by ``1 - alpha``
            (``alpha=None``: no class weight). Note what the default does to a
            *minority positive* class: ``alpha=0.25`` gives each positive a third
            of the weight of a negative, so it **down-weights the minority**
            (Lin et al. chose it because the focusing term already suppresses
            the many easy negatives). Equals Keras's
            ``BinaryFocalCrossentropy(apply_class_balancing=True)`` (and with
            ``alpha=None`` its default ``apply_class_balancing=False``), except
            that we form ``p_t`` from the clipped ``p`` (Keras from the
            unclipped one): a relative difference below ``gamma * 1e-7`` on
            saturated predictions.
        ``"dice"``
            Soft Dice loss, the DIA paper's eq. 3,
            ``1 - (2*sum(p*y) + eps) / (sum(p) + sum(y) + eps)``, sums over the
            whole batch (or over ``axis``), so it is *not* a mean of per-example
            losses and depends on the batch composition. ``eps=1.0`` by default
            (the paper gives no value; 1 is the usual "smooth" term). ``eps`` is
            in numerator and denominator, so a batch with no positives and
            near-zero predictions scores about 0, not 1. Keras's ``Dice`` instead
            has no numerator term and ``1e-7`` in the denominator (its value for
            such a batch is 1). Predictions are not clipped; with
            ``from_logits=True`` the sigmoid is applied first.
        ``"weighted_ce"``
            Multi-class cross-entropy ``-w[y] * (1 - p_y)**gamma * log p_y``; the
            class axis is the last one of ``y_pred``. ``y_true`` is integer labels
            (shape ``y_pred.shape[:-1]``, optionally with a trailing 1) or one-hot
            labels (``y_pred``'s shape). ``class_weights``: None (all 1), an
            array of one weight per class, or ``"balanced"`` together with
            ``y_train=`` (training labels), which uses scikit-learn's
            ``compute_class_weight("balanced")``. ``gamma=0.0``; ``gamma > 0``
            gives the multi-class focal loss. ``normalize="batch"`` divides the
            weighted sum by the number of examples (what Keras's
            ``class_weight``/``sample_weight`` does); ``"weights"`` divides by the
            sum of the examples' weights (torch ``cross_entropy(weight=...)``).
        ``"focal_ce"``
            ``weighted_ce`` with ``gamma=2.0`` by default: the multi-class focal loss.
    backend : {"numpy", "keras", "torch"}
        ``"numpy"`` is the float64 reference; ``"keras"`` uses only ``keras.ops``
        (usable in ``model.compile(loss=...)`` and under ``tf.function``);
        ``"torch"`` is differentiable by autograd.
    axis : None, int or tuple of ints
        None: one scalar for the batch. Otherwise reduce only over these axes
        (see the module docstring).
    from_logits : bool
        ``y_pred`` holds logits; the log-sigmoid/log-softmax form is used.
    **params
        The loss's parameters, listed above; anything else raises ``ValueError``.

    Returns
    -------
    callable
        ``loss(y_true, y_pred)`` returning a backend scalar (or per-``axis`` array).
    """
    if name not in NAMES:
        raise ValueError(f"unknown loss name {name!r}; allowed: {list(NAMES)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; allowed: {list(BACKENDS)}")
    if not isinstance(from_logits, bool):
        raise ValueError(f"from_logits must be True or False, got {from_logits!r}")
    axis = _check_axis(axis)
    resolved = _check_params(name, params)
    ops = _ops_for(backend)
    impl = _IMPL[name]

    def loss(y_true, y_pred):
        return impl(ops, y_true, y_pred, axis=axis, from_logits=from_logits, **resolved)

    loss.__name__ = f"{name}_loss"
    loss.__qualname__ = loss.__name__
    loss.__doc__ = f"{name} loss ({backend}), parameters {resolved}, axis={axis}, from_logits={from_logits}."
    loss.params = dict(resolved)  # resolved parameters, e.g. the balanced class weights
    return loss


def loss_and_gradient(name: str, label: int, p, **params) -> tuple[np.ndarray, np.ndarray]:
    """Loss of one example and its derivative with respect to ``p``, for each value of ``p``.

    Each entry of ``p`` (1-D, probabilities) is scored as its own batch of one
    example with label ``label`` (0 or 1); the derivative comes from torch's
    autograd on the torch backend. Returns two float64 arrays of ``p``'s shape.
    For Dice this is the batch-of-one loss, ``1 - (2*p*y + eps) / (p + y + eps)``.
    """
    import torch

    if label not in (0, 1):
        raise ValueError(f"label must be 0 or 1, got {label!r}")
    fn = make(name, "torch", axis=-1, **params)
    x = torch.tensor(np.asarray(p, dtype=np.float64).reshape(-1, 1), requires_grad=True)
    value = fn(torch.full_like(x, float(label)), x)  # one loss per row
    value.sum().backward()
    return value.detach().numpy().copy(), x.grad.numpy()[:, 0].copy()


def describe(name: str) -> dict[str, Any]:
    """Default parameters of a loss (for tables and error messages)."""
    if name not in NAMES:
        raise ValueError(f"unknown loss name {name!r}; allowed: {list(NAMES)}")
    return dict(_ALLOWED_PARAMS[name])


# --- what the losses chapter computes -------------------------------------------------------------


def focal_discount(gammas: Sequence[float], p_t: float = 0.9) -> dict[str, float]:
    """How much focal loss (no ``alpha``) discounts an easy example relative to BCE, per ``gamma``.

    One positive example predicted at ``p_t`` is scored by BCE and by focal loss with
    each ``gamma``. Returns ``{f"{gamma:g}": focal / BCE}`` in the order of ``gammas``:
    ``(1 - p_t) ** gamma``, 1 at ``gamma = 0``.
    """
    y, p = np.array([1.0]), np.array([p_t])
    return {f"{g:g}": float(make("focal", gamma=g, alpha=None)(y, p) / make("bce")(y, p)) for g in gammas}


def alpha_cost_ratio(gamma: float, alpha: float | None, p_t: float = 0.3) -> float:
    """What the same mistake costs a positive example over a negative one under focal loss.

    A positive predicted at ``p_t`` and a negative predicted at ``1 - p_t`` have the
    same ``p_t`` and so the same focusing term; the ratio of their focal losses
    (``gamma``, ``alpha``) is the class weighting alone: ``alpha / (1 - alpha)``, or 1
    without ``alpha``. Returns it as a float.
    """
    pair_loss = make("focal", axis=-1, gamma=gamma, alpha=alpha)
    pos_cost, neg_cost = pair_loss(np.array([[1.0], [0.0]]), np.array([[p_t], [1 - p_t]]))
    return float(pos_cost / neg_cost)


def fixed_predictions(y_true, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Five fixed sets of predicted probabilities for the labels ``y_true`` (0/1, shape ``(n,)``).

    Returns ``{name: probabilities of shape (n,)}``: a constant at the prevalence
    ("constant π"), a constant 0.5, a near-certain all-positive 0.99, a soft but
    perfect separator (0.7 for positives, 0.3 for negatives) and a "noisy ranker"
    whose scores are Beta(4, 2) draws for positives and Beta(2, 4) for negatives,
    from ``numpy.random.default_rng(seed)``. Used to show that loss values are not
    comparable across losses.
    """
    y = np.asarray(y_true, dtype=int)
    n = len(y)
    prevalence = int(y.sum()) / n
    rng = np.random.default_rng(seed)
    return {
        "constant π": np.full(n, prevalence),
        "constant 0.5": np.full(n, 0.5),
        "all positive (0.99)": np.full(n, 0.99),
        "soft perfect (0.7 / 0.3)": np.where(y == 1, 0.7, 0.3),
        "noisy ranker": np.where(y == 1, rng.beta(4, 2, n), rng.beta(2, 4, n)),
    }
