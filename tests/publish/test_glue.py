import numpy as np
import pytest

from lossbook.publish import glue as gl


def test_plain_turns_numpy_scalars_into_python_ones():
    assert type(gl.plain(np.float64(0.5))) is float
    assert type(gl.plain(np.int64(3))) is int
    assert type(gl.plain(np.array(2.0))) is float
    assert gl.plain("x") == "x"


def test_glue_number_stores_a_plain_scalar(monkeypatch):
    stored = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: stored.update({name: (value, display)}))
    gl.glue_number("n_seeds", np.int64(7))
    assert stored == {"n_seeds": (7, False)} and type(stored["n_seeds"][0]) is int


@pytest.mark.parametrize("name", ["", "two words", None])
def test_glue_number_refuses_bad_names(name):
    with pytest.raises(ValueError, match="glue name"):
        gl.glue_number(name, 1)


def test_glue_number_refuses_tables():
    with pytest.raises(TypeError, match="number or a string"):
        gl.glue_number("x", np.arange(3))


def test_glue_estimate_stores_the_value_and_its_interval_ends(monkeypatch):
    from lossbook.core.estimate import Estimate

    stored = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: stored.update({name: value}))
    gl.glue_estimate("gain", Estimate(np.float64(0.1), 0.05, 0.2, n=10, method="corrected_t"))
    assert stored == {"gain": 0.1, "gain_lo": 0.05, "gain_hi": 0.2}
    gl.glue_estimate("level", Estimate(0.3))  # no interval: its ends are NaN, never a made-up number
    assert stored["level"] == 0.3 and np.isnan(stored["level_lo"]) and np.isnan(stored["level_hi"])


def test_glue_numbers_prefixes_every_key(monkeypatch):
    from lossbook.publish import glue

    glued = {}
    monkeypatch.setattr(glue, "glue_number", lambda name, value: glued.__setitem__(name, value))
    glue.glue_numbers("dia_cnn", {"pool_size": 2, "dropout": 0.3})
    assert glued == {"dia_cnn_pool_size": 2, "dia_cnn_dropout": 0.3}


def test_glue_numbers_glues_estimates_with_their_ends_and_walks_nested_mappings(monkeypatch):
    from lossbook.core.estimate import Estimate

    stored = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: stored.update({name: value}))
    gl.glue_numbers("dia", {"gain": Estimate(0.1, 0.05, 0.2, n=10, method="corrected_t"),
                            "mlp": {"auc": 0.8, "steps": {"early": Estimate(0.02)}}})
    assert stored["dia_gain"] == 0.1 and stored["dia_gain_lo"] == 0.05 and stored["dia_gain_hi"] == 0.2
    assert stored["dia_mlp_auc"] == 0.8 and stored["dia_mlp_steps_early"] == 0.02
    assert np.isnan(stored["dia_mlp_steps_early_lo"])
