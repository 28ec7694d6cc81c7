"""Benchmark: three ways to compute the stacked DIA CNN's convolutions, forward and backward.

The batched trainer (:mod:`lossbook.nets.keras_stack`) runs the convolutions of many fold
models as one grouped convolution. This script times one training step's worth of work
(two Conv1D layers, kernel 3, 64 then 32 filters, ReLU, max pooling; gradients of every
weight) for ``--models`` stacked models on ``--batch`` rows of ``--features`` inputs:

``grouped``
    the trainer's way: one ``tf.nn.conv1d`` whose channels hold every model's filters;
``shifted``
    three shifted products summed, each a batched matrix product per model;
``unfolded``
    the three shifts concatenated, then one batched matrix product per model.

It prints milliseconds per step, model-steps per second and the arithmetic rate of the
convolutions (multiply-adds counted as two operations). Not a test: timings depend on the
machine and on what else runs on it.

    python benchmarks/bench_cnn_convolution.py --models 25 --batch 32 --features 600
"""
from __future__ import annotations

import argparse
import time
from functools import partial

import lossbook  # noqa: F401  (before TensorFlow: it sets the environment TensorFlow reads at import)

FILTERS = (64, 32)
KERNEL = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=25, help="stacked fold models")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--features", type=int, default=600, help="input width after the column filter")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    m, batch, width = args.models, args.batch, args.features
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(m, batch, width)).astype(np.float32))
    weights = [tf.Variable(rng.normal(size=shape).astype(np.float32) * 0.1)
               for shape in ((m, KERNEL, 1, FILTERS[0]), (m, FILTERS[0]), (m, KERNEL, *FILTERS), (m, FILTERS[1]))]

    def grouped(x):
        k1, b1, k2, b2 = weights
        h = tf.transpose(x, (1, 2, 0))  # (batch, width, m): model i is channel group i
        for kernel, bias in ((k1, b1), (k2, b2)):
            filters = tf.reshape(tf.transpose(kernel, (1, 2, 0, 3)), (KERNEL, kernel.shape[2], -1))
            h = tf.nn.relu(tf.nn.conv1d(h, filters, 1, "VALID") + tf.reshape(bias, (-1,)))
        return tf.reduce_sum(tf.nn.max_pool1d(h, 2, 2, "VALID"))

    def by_matmul(x, unfold):
        k1, b1, k2, b2 = weights
        length = width - KERNEL + 1
        h = tf.nn.relu(sum(x[:, :, i:i + length, None] * k1[:, i, 0][:, None, None, :] for i in range(KERNEL))
                       + b1[:, None, None, :])
        length -= KERNEL - 1
        if unfold:
            stacked = tf.concat([h[:, :, i:i + length] for i in range(KERNEL)], axis=-1)
            h = tf.einsum("mblc,mcd->mbld", stacked, tf.reshape(k2, (m, KERNEL * FILTERS[0], FILTERS[1])))
        else:
            h = sum(tf.einsum("mblc,mcd->mbld", h[:, :, i:i + length], k2[:, i]) for i in range(KERNEL))
        h = tf.nn.relu(h + b2[:, None, None, :])[:, :, : length // 2 * 2]
        return tf.reduce_sum(tf.reduce_max(tf.reshape(h, (m, batch, length // 2, 2, FILTERS[1])), axis=3))

    # multiply-adds of both convolutions, forward; the backward pass costs about twice that
    macs = m * batch * ((width - 2) * KERNEL * FILTERS[0] + (width - 4) * KERNEL * FILTERS[0] * FILTERS[1])
    ways = {"grouped": grouped, "shifted": partial(by_matmul, unfold=False), "unfolded": partial(by_matmul, unfold=True)}
    for name, forward in ways.items():
        @tf.function
        def step(x, forward=forward):
            with tf.GradientTape() as tape:
                total = forward(x)
            return total, tape.gradient(total, weights)

        step(x)  # trace and warm up
        start = time.perf_counter()
        for _ in range(args.steps):
            step(x)
        seconds = (time.perf_counter() - start) / args.steps
        print(f"{name:>9}: {seconds * 1000:7.1f} ms/step  {m / seconds:7.0f} model-steps/s  "
              f"{3 * 2 * macs / seconds / 1e9:6.1f} GFLOP/s")


if __name__ == "__main__":
    main()
