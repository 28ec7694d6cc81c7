"""The paper's three networks: layer specs and Keras builds agree."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from lossbook.nets import models


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_keras_build_matches_the_spec(name):
    net = models.build_keras(name, 30, seed=0)
    assert [tuple(w.shape) for w in net.get_weights()] == [s for _, s in models.parameter_shapes(name, 30)]
    assert net.count_params() == models.n_parameters(name, 30)
    out = net(np.zeros((4, 30), dtype=np.float32)).numpy()
    assert out.shape == (4, 1) and np.all((out > 0) & (out < 1))


def test_paper_widths():
    dense = lambda name: [int(l.size) for l in models.architecture(name) if l.kind == "dense"]  # noqa: E731
    drops = lambda name: [l.size for l in models.architecture(name) if l.kind == "dropout"]  # noqa: E731
    assert dense("mlp") == [256, 128, 64, 1] and drops("mlp") == [0.4, 0.3, 0.2]
    assert dense("simplenn") == [64, 32, 1] and drops("simplenn") == [0.3, 0.2]
    convs = [(int(l.size), l.kernel) for l in models.architecture("cnn") if l.kind == "conv1d"]
    assert convs == [(64, 3), (32, 3)]


def test_dropout_can_be_left_out_and_biases_start_at_zero():
    net = models.build_keras("mlp", 8, dropout=False, seed=1)
    assert not any("dropout" in layer.name for layer in net.layers)
    for kind_shape, w in zip(models.parameter_shapes("mlp", 8), net.get_weights()):
        if kind_shape[0] == "bias":
            assert not w.any()


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="model must be one of"):
        models.architecture("resnet")


def test_network_is_resolved_once_and_walks_shapes_once():
    net = models.network("cnn")
    assert net.name == "cnn" and net.layers == models.architecture("cnn") and net.has_conv
    assert not models.network("mlp").has_conv
    assert [net.layers[i].kind for i in net.weighted_layers] == ["conv1d", "conv1d", "dense", "dense"]
    shapes, pooled = net.shapes(30)
    assert shapes == models.parameter_shapes("cnn", 30)
    assert pooled == (30 - 2 - 2) // 2 == net.pooled_width(30)
    assert models.network("mlp").pooled_width(12) == 12
    with pytest.raises(ValueError, match="model must be one of"):
        models.network("resnet")


def test_cnn_options_change_the_choices_the_paper_leaves_open():
    book = models.network("cnn")
    assert models.network("cnn", ()) == book
    wider = models.network("cnn", {"pool_size": 4, "dense_units": 64})
    assert wider.pooled_width(729) == (729 - 4) // 4 and book.pooled_width(729) == (729 - 4) // 2
    assert wider.parameter_shapes(729)[-4] == ("kernel", ((729 - 4) // 4 * 32, 64))
    with pytest.raises(ValueError, match=r"\['pool'\] are not options of 'cnn'"):
        models.network("cnn", {"pool": 4})
    with pytest.raises(ValueError, match="not options of 'mlp'.*none"):
        models.network("mlp", {"pool_size": 4})
