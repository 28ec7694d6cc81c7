"""lossbook.nets.torch_stack: every stacked member computes what its own nn.Sequential computes."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lossbook.nets.torch_stack import StackedMLP  # noqa: E402 (after the torch skip)


def _stack(n_members=3, sizes=(4, 6, 2), seed=0):
    gen = torch.Generator().manual_seed(seed)
    weights = [torch.randn((n_members, a, b), generator=gen, dtype=torch.float64) for a, b in itertools.pairwise(sizes)]
    biases = [torch.randn((n_members, 1, b), generator=gen, dtype=torch.float64) for b in sizes[1:]]
    return weights, biases


@pytest.mark.parametrize("output", ["logits", "sigmoid"])
def test_each_member_is_its_own_sequential(output):
    sizes = (4, 6, 5, 1) if output == "sigmoid" else (4, 6, 3)
    weights, biases = _stack(sizes=sizes)
    stack = StackedMLP(weights, biases, output=output)
    X = torch.randn((10, 4), dtype=torch.float64)
    out = stack(X)
    for i in range(3):
        layers = []
        for l, (W, b) in enumerate(zip(weights, biases)):
            lin = torch.nn.Linear(W.shape[1], W.shape[2]).double()
            with torch.no_grad():
                lin.weight.copy_(W[i].T)
                lin.bias.copy_(b[i, 0])
            layers += [lin] + ([torch.nn.ReLU()] if l < len(weights) - 1 else [])
        expected = torch.nn.Sequential(*layers)(X)
        if output == "sigmoid":
            expected = torch.sigmoid(expected)[:, 0]
        torch.testing.assert_close(out[i], expected.detach())
    assert len(stack.parameters()) == 2 * (len(sizes) - 1) and all(p.requires_grad for p in stack.parameters())


def test_dropout_masks_the_first_hidden_layer_inverted():
    weights, biases = _stack()
    stack = StackedMLP(weights, biases)
    X = torch.randn((3, 5, 4), dtype=torch.float64)  # one input per member
    keep = torch.rand((3, 5, 6)) >= 0.5
    hidden = torch.relu(torch.baddbmm(biases[0], X, weights[0])) * keep / 0.5
    torch.testing.assert_close(stack(X, dropout=0.5, keep=keep), torch.baddbmm(biases[1], hidden, weights[1]))


def test_refuses_bad_shapes_and_outputs():
    weights, biases = _stack()
    with pytest.raises(ValueError, match="output must be one of"):
        StackedMLP(weights, biases, output="softmax")
    with pytest.raises(ValueError, match=r"layer 0: weights must be \(members, in, out\)"):
        StackedMLP([weights[0][0]], [biases[0]])
    with pytest.raises(ValueError, match="one bias per weight"):
        StackedMLP(weights, biases[:1])
    assert np.isfinite(StackedMLP(weights, biases)(torch.zeros((2, 4), dtype=torch.float64)).detach().numpy()).all()
