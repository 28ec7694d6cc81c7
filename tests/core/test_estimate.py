"""lossbook.core.estimate: the one shape of a reported number."""
import json

import pytest

from lossbook.core.estimate import Estimate, is_estimate
from lossbook.core.io import to_jsonable


def test_round_trip_through_json():
    value = Estimate(0.25, 0.1, 0.4, n=25, method="corrected_t")
    text = json.dumps(to_jsonable({"x": value}))
    back = Estimate.from_dict(json.loads(text)["x"])
    assert back == value and is_estimate(json.loads(text)["x"])


@pytest.mark.parametrize("kwargs, message", [
    ({"estimate": 0.1, "ci_low": 0.0}, "both ends"),
    ({"estimate": 0.1, "ci_low": 0.3, "ci_high": 0.2}, "ci_low > ci_high"),
    ({"estimate": 0.1, "method": "guess"}, "method must be one of"),
])
def test_bad_estimates_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Estimate(**kwargs)


def test_excludes():
    assert Estimate(0.2, 0.1, 0.3, method="t").excludes(0.0)
    assert not Estimate(0.2, -0.1, 0.3, method="t").excludes(0.0)
    assert not Estimate(0.2).excludes(0.0)  # no interval, nothing excluded
    with pytest.raises(ValueError, match="unknown keys"):
        Estimate.from_dict({"mean": 0.2})
