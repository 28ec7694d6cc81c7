"""One place that seeds every random number generator the book uses.

Every chapter calls :func:`seed_everything` once in its first code cell and
derives any further seeds from its parameters, so that the same parameters
give the same numbers; :func:`derive_seed` is the one way to derive them.
"""
from __future__ import annotations

import hashlib
import json
import os
import random

import numpy as np


def derive_seed(*parts) -> int:
    """A seed derived from ``parts``, stable across runs, machines and processes.

    Every seed the book derives comes from here: e.g. ``derive_seed("init", key)``
    for one network, ``derive_seed(seed, split_kind, repeat)`` for one split.

    * Integer parts only (Python or NumPy ints): NumPy's ``SeedSequence(parts)``
      entropy, a 32-bit value in ``[0, 2**32)``.
    * Any other JSON-able parts (strings, floats, nested lists): the first four
      bytes (little-endian) of the SHA-256 of their JSON, masked to 31 bits.

    The two rules keep the seeds every published chapter already used (the acne
    study derives from integers, the DIA study from tagged tuples); a caller
    that wants the other rule tags its parts with a string.
    """
    if not parts:
        raise ValueError("derive_seed needs at least one part")
    if all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in parts):
        if any(p < 0 for p in parts):
            raise ValueError(f"derive_seed: integer parts must be non-negative, got {parts!r}")
        return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little") & 0x7FFFFFFF


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
