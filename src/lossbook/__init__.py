"""lossbook: the helper package behind the book on losses for imbalanced classification.

Four layers; a module imports only from its own layer and the layers above it
in this list (``tests/test_layers.py`` checks it):

``lossbook.core``: the reusable library; imports neither TensorFlow nor torch at import time

* :mod:`~lossbook.core.losses`   BCE, focal, Dice and weighted CE for NumPy, Keras and torch
* :mod:`~lossbook.core.metrics`  scores, the one rank ROC-AUC and average precision, the one bootstrap engine
* :mod:`~lossbook.core.validate` the one validator of labels and probabilities
* :mod:`~lossbook.core.compare`  judge two sets of predictions on the same examples
* :mod:`~lossbook.core.plots`    the book's figures
* :mod:`~lossbook.core.params`   parameter constraints as data and the one ``validate``
* :mod:`~lossbook.core.seeding`  one helper that seeds everything, one seed derivation
* :mod:`~lossbook.core.data`     find, check and load the DIA and acne datasets
* :mod:`~lossbook.core.near_duplicates`  near-duplicate image groups and ``splits.csv`` from an image folder
* :mod:`~lossbook.core.paths`    repository, output and cache folders
* :mod:`~lossbook.core.cache`    on-disk cache keyed by everything that affects an entry, checksummed
* :mod:`~lossbook.core.io`       the one atomic-write helper (bytes, text, JSON, pickle) and package versions

``lossbook.nets``: networks and their trainers

* :mod:`~lossbook.nets.models`       the DIA paper's architectures as ``Network`` specs, and Keras builds
* :mod:`~lossbook.nets.torch_stack`  many small torch networks stacked and run as one (synthetic, acne heads)
* :mod:`~lossbook.nets.keras_stack`  the batched fold trainer (many small Keras-style networks at once)
* :mod:`~lossbook.nets.embeddings`   frozen-backbone image embeddings

``lossbook.studies``: one module per source study, the protocol its chapter runs

* :mod:`~lossbook.studies.dia`, :mod:`~lossbook.studies.acne`,
  :mod:`~lossbook.studies.acne_finetune`, :mod:`~lossbook.studies.synthetic`,
  :mod:`~lossbook.studies.forum`, :mod:`~lossbook.studies.tabular` (``lossbook study``);
  :mod:`~lossbook.studies.chapters` finds each chapter's parameter constraints
* :mod:`~lossbook.studies.robustness` calibration and prior shift of the DIA networks, training
  length in the synthetic study (reads the DIA chapter's cached fold models)
* :mod:`~lossbook.studies.sensitivity` variants of the DIA fold models: learning rate per loss,
  focal α × γ, the CNN + Dice collapse map, split vs initialisation variance
* :mod:`~lossbook.studies.claims`     the sources' claims and the book's critiques, as data for the ledger

``lossbook.publish``: the machinery that makes the book

* :mod:`~lossbook.publish.runner`      execute chapters into the book (``python -m lossbook run``)
* :mod:`~lossbook.publish.results`     chapter results files with provenance
* :mod:`~lossbook.publish.report`      tables for the appendix and wall-time collection
* :mod:`~lossbook.publish.ledger`      the claims ledger's engine (reads results, applies the verdict rules)
* :mod:`~lossbook.publish.sphinx_ext`  the book's Sphinx extension: theme fixes, MathJax offline, author-year labels
* :mod:`~lossbook.publish.presentation`  which code cells the page shows (the runner's cell tags)
* :mod:`~lossbook.publish.tables`      DataFrames as numbered, captioned page tables (``glue_table``)
"""

import os

# TensorFlow reads these when it is first imported, so import lossbook before TensorFlow or Keras.
# Its C++ start-up chatter would otherwise land in every executed notebook.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN: TensorFlow enables it by default only on CPUs with AVX-512-class features, and without
# it the CPU kernels cannot differentiate the grouped convolution that trains many CNNs at once
# (lossbook.nets.keras_stack); with it, they can on any x86-64 CPU.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
