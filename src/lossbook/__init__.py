"""lossbook: the helper package behind the book on losses for imbalanced classification.

Modules, one job each:

* :mod:`lossbook.data`      find, check and load the DIA and acne datasets
* :mod:`lossbook.losses`    BCE, focal, Dice and weighted CE for NumPy, Keras and torch
* :mod:`lossbook.metrics`   scores, fold aggregation, bootstrap and paired tests
* :mod:`lossbook.plots`     the book's figures
* :mod:`lossbook.seeding`   one helper that seeds everything
* :mod:`lossbook.cache`     on-disk cache keyed by everything that affects an entry
* :mod:`lossbook.results`   chapter results files with provenance
* :mod:`lossbook.runner`    execute chapters into the book (``python -m lossbook run``)
"""

import os

# TensorFlow's C++ start-up chatter would otherwise land in every executed notebook.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
