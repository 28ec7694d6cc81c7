"""Which constraints check each chapter's parameters.

A chapter's defaults live in its papermill parameters cell
(``notebooks/<chapter>.py``) and nowhere else; its constraints live beside
its study code as data (``CONSTRAINTS`` in :mod:`lossbook.studies.synthetic`,
:mod:`~lossbook.studies.forum`, :mod:`~lossbook.studies.dia`,
:mod:`~lossbook.studies.acne`, :mod:`~lossbook.studies.robustness`), or here for the chapters without a study
module. :func:`constraints` finds them for any chapter; a test validates every
chapter's cell and every profile of ``notebooks/profiles.yml`` against them.
"""
from __future__ import annotations

from importlib import import_module

from lossbook.core.params import Interval, ListOf, OneOf, SubsetOf
from lossbook.studies.claims import SOURCES

#: The data chapter's parameters.
DATA = {"data_dir": [None, str], "seed": Interval(int, 0, None)}

#: The losses chapter's parameters (the loss parameters are checked again by losses.make).
LOSSES = {
    "data_dir": [None, str],
    "seed": Interval(int, 0, None),
    "gammas": ListOf(Interval(float, 0.0, None)),
    "alphas": ListOf(Interval(float, 0.0, 1.0), allow_none_items=True),
    "focal_gamma": Interval(float, 0.0, None),
    "focal_alpha": [None, Interval(float, 0.0, 1.0)],
    "dice_eps": Interval(float, 0.0, None, closed="neither"),
    "batch_size": Interval(int, 2, None),
    "n_points": Interval(int, 11, None),
}

#: The claims ledger's parameters (which sources' claims).
CLAIMS = {"results_root": [None, str], "sources": SubsetOf(SOURCES)}

#: The your-data chapter's parameters (the study's own options are checked by tabular.check_parameters).
YOURDATA = {
    "prevalence": Interval(float, 0.0, 1.0, closed="neither"),
    "n_splits": Interval(int, 2, 20),
    "n_repeats": Interval(int, 1, None),
    "max_epochs": Interval(int, 1, None),
    "patience": Interval(int, 1, None),
    "seed": Interval(int, 0, None),
    "executor": OneOf(("serial", "dask")),
}

#: The appendix's parameters.
APPENDIX = {"results_root": [None, str]}

_IN_STUDY_MODULES = ("synthetic", "forum", "dia", "acne", "robustness")


def constraints(chapter: str) -> dict:
    """The constraints of ``chapter``'s parameters; ``{}`` for a chapter without parameters."""
    if chapter in _IN_STUDY_MODULES:
        return import_module(f"lossbook.studies.{chapter}").CONSTRAINTS
    return {"data": DATA, "losses": LOSSES, "yourdata": YOURDATA, "claims": CLAIMS,
            "appendix": APPENDIX}.get(chapter, {})
