"""Repository-wide pytest set-up: what nbval compares when it re-executes book/.

The book never shows stderr (``nb_output_stderr: remove`` in _config.yml): it
holds progress bars, framework start-up logs and warnings whose number and
wording vary from run to run and from checkout to checkout. nbval therefore
compares every output except stderr streams; results are never on stderr.
"""
from __future__ import annotations

from nbval.plugin import IPyNbCell

_compare_outputs = IPyNbCell.compare_outputs


def _without_stderr(outputs):
    return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def _compare_outputs_but_stderr(self, test, ref, skip_compare=None):
    return _compare_outputs(self, _without_stderr(test), _without_stderr(ref), skip_compare)


IPyNbCell.compare_outputs = _compare_outputs_but_stderr
