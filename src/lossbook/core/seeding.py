"""One place that seeds every random number generator the book uses.

Every chapter calls :func:`seed_everything` once in its first code cell and
derives any further seeds from its parameters, so that the same parameters
give the same numbers.
"""
from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int, *, deterministic: bool = True) -> np.random.Generator:
    """Seed Python, NumPy, TensorFlow/Keras and torch (those that are importable).

    Parameters
    ----------
    seed : int
        Non-negative seed.
    deterministic : bool
        Also ask TensorFlow (op determinism) and torch (deterministic
        algorithms) for bit-reproducible kernels. Slightly slower; on by default.

    Returns
    -------
    numpy.random.Generator
        A generator seeded with ``seed`` for code that wants an explicit one.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    _seed_tensorflow(seed, deterministic)
    _seed_torch(seed, deterministic)
    return np.random.default_rng(seed)


def _seed_tensorflow(seed: int, deterministic: bool) -> None:
    # Importing TensorFlow costs seconds; only seed it if a chapter already uses it.
    import sys

    if "tensorflow" not in sys.modules and "keras" not in sys.modules:
        return
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def _seed_torch(seed: int, deterministic: bool) -> None:
    import sys

    if "torch" not in sys.modules:
        return
    import torch

    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
