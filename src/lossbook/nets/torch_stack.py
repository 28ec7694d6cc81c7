"""Many small torch networks of one shape, stacked and evaluated as one.

The synthetic study trains thousands of copies of a tiny MLP and the acne
study hundreds of one-hidden-layer heads. One optimiser step per network
would spend nearly all its time in per-call overhead, so both stack the
networks' weights along a leading member axis and run every layer as one
batched matrix product (``torch.baddbmm``). :class:`StackedMLP` is that stack.

Member ``i`` computes exactly what an ``nn.Sequential`` of ``Linear`` layers
(weight ``weights[l][i].T``, bias ``biases[l][i, 0]``) with ReLU between them
computes; nothing a member computes depends on the other members, so Adam
over the stacked tensors is one independent Adam per member.
"""
from __future__ import annotations

from collections.abc import Sequence

__all__ = ["StackedMLP"]

OUTPUTS = ("logits", "sigmoid")


class StackedMLP:
    """``n_members`` fully connected networks of the same layer sizes.

    Parameters
    ----------
    weights : list of tensors, layer ``l`` of shape (n_members, in_l, out_l)
    biases : list of tensors, layer ``l`` of shape (n_members, 1, out_l)
        The initial parameters (the caller decides how they are drawn); they
        are used as given (made leaf tensors that require grad).
    output : "logits" or "sigmoid"
        What the last layer returns: its raw values, or their sigmoid with the
        trailing size-1 axis dropped (a binary classifier's probabilities).
    """

    def __init__(self, weights: Sequence, biases: Sequence, *, output: str = "logits"):
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        if len(weights) == 0 or len(weights) != len(biases):
            raise ValueError(f"need one bias per weight and at least one layer, got {len(weights)} and {len(biases)}")
        for l, (W, b) in enumerate(zip(weights, biases)):
            if W.dim() != 3 or b.dim() != 3 or b.shape[1] != 1 or W.shape[0] != b.shape[0] or W.shape[2] != b.shape[2]:
                raise ValueError(f"layer {l}: weights must be (members, in, out) and biases (members, 1, out), "
                                 f"got {tuple(W.shape)} and {tuple(b.shape)}")
        self.weights = [W.requires_grad_(True) for W in weights]
        self.biases = [b.requires_grad_(True) for b in biases]
        self.output = output

    @property
    def n_members(self) -> int:
        return int(self.weights[0].shape[0])

    def parameters(self) -> list:
        """``[W0, b0, W1, b1, ...]``, for an optimiser."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def __call__(self, X, *, dropout: float = 0.0, keep=None):
        """Outputs for ``X`` of shape (n, in) (shared by all members) or (n_members, n, in).

        ``keep``: optional boolean masks (n_members, n, hidden) applied after the
        first hidden layer's ReLU with inverted dropout (``h * keep / (1 - dropout)``),
        as in training the acne heads. Returns (n_members, n, out), or
        (n_members, n) probabilities for ``output="sigmoid"``.
        """
        import torch

        h = X if X.dim() == 3 else X.unsqueeze(0).expand(self.n_members, -1, -1)
        last = len(self.weights) - 1
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, W)
            if l < last:
                h = torch.relu(h)
                if l == 0 and keep is not None:
                    h = h * keep / (1.0 - dropout)
        if self.output == "sigmoid":
            return torch.sigmoid(h).squeeze(-1)
        return h
