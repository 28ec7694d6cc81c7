"""lossbook.core.inference against textbook values."""
import numpy as np
import pytest
from scipy import stats

from lossbook.core.inference import clopper_pearson_interval, holm, minimum_detectable_effect, wilson_interval


def test_holm_matches_the_step_down_rule():
    # sorted p: .01, .02, .04 -> 3*.01=.03, 2*.02=.04, 1*.04=.04 (monotone)
    assert np.allclose(holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []
    with pytest.raises(ValueError, match="p_values"):
        holm([0.1, 1.5])


def test_wilson_interval_textbook_case():
    e = wilson_interval(8, 10)  # Wilson 95 %: [0.490, 0.943]
    assert e.estimate == 0.8 and e.method == "wilson"
    assert e.ci_low == pytest.approx(0.4902, abs=1e-3) and e.ci_high == pytest.approx(0.9433, abs=1e-3)


def test_clopper_pearson_edges_and_value():
    assert clopper_pearson_interval(0, 25).ci_low == 0.0
    assert clopper_pearson_interval(25, 25).ci_high == 1.0
    e = clopper_pearson_interval(20, 25)
    assert e.ci_low == pytest.approx(stats.beta.ppf(0.025, 20, 6))
    with pytest.raises(ValueError, match="k must be"):
        clopper_pearson_interval(26, 25)


def test_minimum_detectable_effect_normal_case():
    assert minimum_detectable_effect(1.0) == pytest.approx(1.959964 + 0.841621, abs=1e-5)
    assert minimum_detectable_effect(0.01, df=24) > minimum_detectable_effect(0.01)
