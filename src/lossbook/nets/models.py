"""The DIA paper's three networks, as layer specs and as Keras models.

A network is described once, as a tuple of layer descriptors (:data:`ARCHITECTURES`).
The same description builds

* a plain ``keras.Sequential`` (:func:`build_keras`), the reference the paper used, and
* the stacked, many-models-at-once version in :mod:`lossbook.nets.keras_stack`.

Widths the paper gives: MLP Dense 256-128-64 with dropout 0.4/0.3/0.2; CNN Conv1D
64 then 32 filters (kernel 3), MaxPooling1D, dropout, flatten, dense; SimpleNN
Dense 64-32 with dropout 0.3/0.2; sigmoid outputs. Widths the paper leaves out
are chosen here and listed in :data:`CNN_CHOICES`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

__all__ = ["Layer", "LayerKind", "LAYER_KINDS", "Network", "ARCHITECTURES", "CNN_CHOICES", "OPTIONS", "cnn_layers", "network", "architecture",
           "build_keras", "n_parameters"]


@dataclass(frozen=True)
class Layer:
    """One layer. ``kind`` is dense, dropout, reshape, conv1d, maxpool or flatten.

    ``size`` is the units (dense), filters (conv1d), rate (dropout) or pool size
    (maxpool); ``kernel`` the conv kernel size; ``activation`` relu/sigmoid/None.
    """

    kind: str
    size: float = 0
    kernel: int = 0
    activation: str | None = None

    def __post_init__(self):
        if self.kind not in LAYER_KINDS:
            raise ValueError(f"layer kind must be one of {sorted(LAYER_KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class _Shape:
    """Where a walk over the layers stands: sequence width, channels (None before the
    input is a sequence and after flattening) and the width after the last convolution
    or pooling layer."""

    width: int
    channels: int | None
    pooled: int


@dataclass(frozen=True)
class LayerKind:
    """What one kind of :class:`Layer` does, wherever a network is walked.

    ``shapes(layer, shape)`` returns (the layer's weight shapes as ("kernel"/"bias",
    shape) in Keras order, the :class:`_Shape` after it); ``keras(layer, n_features,
    init)`` the Keras layer (``init`` seeds a kernel initialiser).
    """

    shapes: Callable
    keras: Callable


def _no_weights(update=lambda layer, s: s):
    return lambda layer, s: ([], update(layer, s))


def _conv1d_shapes(layer, s):
    filters, width = int(layer.size), s.width - layer.kernel + 1
    return ([("kernel", (layer.kernel, s.channels, filters)), ("bias", (filters,))],
            _Shape(width, filters, width))


def _dense_shapes(layer, s):
    units = int(layer.size)
    return [("kernel", (s.width, units)), ("bias", (units,))], replace(s, width=units)


#: Every layer kind, as data: the shape walk and the Keras build look it up here.
#: (The stacked forward pass of :mod:`lossbook.nets.keras_stack` keeps its own table of TF ops.)
LAYER_KINDS = {
    "reshape": LayerKind(_no_weights(lambda layer, s: replace(s, channels=1)),
                         lambda layer, n, init: keras_layers().Reshape((n, 1))),
    "conv1d": LayerKind(_conv1d_shapes,
                        lambda layer, n, init: keras_layers().Conv1D(int(layer.size), layer.kernel,
                                                                     activation=layer.activation,
                                                                     kernel_initializer=init)),
    "maxpool": LayerKind(_no_weights(lambda layer, s: replace(s, width=s.width // int(layer.size),
                                                             pooled=s.width // int(layer.size))),
                         lambda layer, n, init: keras_layers().MaxPooling1D(int(layer.size))),
    "dropout": LayerKind(_no_weights(), lambda layer, n, init: keras_layers().Dropout(layer.size)),
    "flatten": LayerKind(_no_weights(lambda layer, s: replace(s, width=s.width * s.channels, channels=None)),
                         lambda layer, n, init: keras_layers().Flatten()),
    "dense": LayerKind(_dense_shapes,
                       lambda layer, n, init: keras_layers().Dense(int(layer.size), activation=layer.activation,
                                                                   kernel_initializer=init)),
}


def keras_layers():
    """``keras.layers``, imported on first use (importing this module does not start Keras)."""
    import keras

    return keras.layers


#: Choices for the CNN the paper does not state: pool size 2 (Keras' default),
#: dropout 0.3 after pooling, a 32-unit ReLU dense layer with dropout 0.2 before the output.
CNN_CHOICES = {"pool_size": 2, "dropout_after_pool": 0.3, "dense_units": 32, "dropout_after_dense": 0.2}


def cnn_layers(*, pool_size: int, dropout_after_pool: float, dense_units: int,
               dropout_after_dense: float) -> tuple[Layer, ...]:
    """The paper's Conv1D network with the choices it leaves open (:data:`CNN_CHOICES`)."""
    return (
        Layer("reshape"),
        Layer("conv1d", 64, kernel=3, activation="relu"),
        Layer("conv1d", 32, kernel=3, activation="relu"),
        Layer("maxpool", pool_size),
        Layer("dropout", dropout_after_pool),
        Layer("flatten"),
        Layer("dense", dense_units, activation="relu"),
        Layer("dropout", dropout_after_dense),
        Layer("dense", 1, activation="sigmoid"),
    )


ARCHITECTURES: dict[str, tuple[Layer, ...]] = {
    "mlp": (
        Layer("dense", 256, activation="relu"), Layer("dropout", 0.4),
        Layer("dense", 128, activation="relu"), Layer("dropout", 0.3),
        Layer("dense", 64, activation="relu"), Layer("dropout", 0.2),
        Layer("dense", 1, activation="sigmoid"),
    ),
    "cnn": cnn_layers(**CNN_CHOICES),
    "simplenn": (
        Layer("dense", 64, activation="relu"), Layer("dropout", 0.3),
        Layer("dense", 32, activation="relu"), Layer("dropout", 0.2),
        Layer("dense", 1, activation="sigmoid"),
    ),
}

#: Networks that take options beyond their name: the defaults and the builder.
OPTIONS = {"cnn": (CNN_CHOICES, cnn_layers)}


@dataclass(frozen=True)
class Network:
    """One network of :data:`ARCHITECTURES`, resolved once from its name.

    ``name`` is what configurations and cache keys hold; ``layers`` the spec.
    The shape bookkeeping every consumer needs (weight shapes in Keras order,
    the width after the convolutions and pooling, which layers own weights)
    is computed here, by one walk over the layers (:meth:`shapes`).
    """

    name: str
    layers: tuple[Layer, ...]

    @property
    def has_conv(self) -> bool:
        return any(layer.kind == "conv1d" for layer in self.layers)

    @property
    def weighted_layers(self) -> tuple[int, ...]:
        """Indices (in :attr:`layers`) of the layers that own a kernel and a bias, in Keras order."""
        return tuple(i for i, layer in enumerate(self.layers) if layer.kind in ("dense", "conv1d"))

    def shapes(self, n_features: int) -> tuple[list[tuple[str, tuple[int, ...]]], int]:
        """``(parameter shapes, pooled width)`` for ``n_features`` inputs.

        The parameter shapes are (``"kernel"``/``"bias"``, shape) of each weight in
        Keras order; the pooled width is the sequence length after the last
        convolution or pooling layer (``n_features`` for networks without them).
        """
        weights, shape = [], _Shape(n_features, None, n_features)
        for layer in self.layers:
            own, shape = LAYER_KINDS[layer.kind].shapes(layer, shape)
            weights += own
        return weights, shape.pooled

    def parameter_shapes(self, n_features: int) -> list[tuple[str, tuple[int, ...]]]:
        return self.shapes(n_features)[0]

    def pooled_width(self, n_features: int) -> int:
        return self.shapes(n_features)[1]


def network(name: str, options=()) -> Network:
    """The :class:`Network` called ``name`` ("mlp", "cnn" or "simplenn").

    ``options``: (option, value) pairs or a mapping that change the choices the paper
    leaves open (:data:`OPTIONS`: the CNN's ``pool_size``, ``dense_units`` and dropout
    rates); none gives the book's network.
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"model must be one of {sorted(ARCHITECTURES)}, got {name!r}")
    options = dict(options)
    if not options:
        return Network(name, ARCHITECTURES[name])
    defaults, build = OPTIONS.get(name, ({}, None))
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"network options {unknown} are not options of {name!r} (it takes {sorted(defaults) or 'none'})")
    return Network(name, build(**{**defaults, **options}))


def architecture(name: str) -> tuple[Layer, ...]:
    """The layer spec of ``name`` ("mlp", "cnn" or "simplenn")."""
    return network(name).layers


def build_keras(name: str, n_features: int, *, dropout: bool = True, seed: int | None = None):
    """A ``keras.Sequential`` for ``name`` taking inputs of shape (batch, n_features).

    Output: probabilities, shape (batch, 1). ``dropout=False`` drops the dropout
    layers (used to compare the batched trainer with ``model.fit`` exactly).
    ``seed`` seeds the Glorot-uniform kernel initialisers (biases start at zero).
    """
    import keras

    layers = [keras.Input((n_features,))]
    for i, layer in enumerate(architecture(name)):
        if layer.kind == "dropout" and not dropout:
            continue
        init = keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)
        layers.append(LAYER_KINDS[layer.kind].keras(layer, n_features, init))
    return keras.Sequential(layers)


def parameter_shapes(name: str, n_features: int) -> list[tuple[str, tuple[int, ...]]]:
    """(``"kernel"``/``"bias"``, shape) of each weight in Keras order, for ``n_features`` inputs."""
    return network(name).parameter_shapes(n_features)


def n_parameters(name: str, n_features: int) -> int:
    """Number of trainable weights of ``name`` for ``n_features`` inputs."""
    return sum(math.prod(shape) for _, shape in parameter_shapes(name, n_features))
