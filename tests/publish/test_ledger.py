"""The claims ledger: measurements from results files, the verdict rules, and the seed claims."""
from __future__ import annotations

import pytest

from lossbook.publish import ledger as L


def payload(results):
    return {"chapter": "x", "results": results, "parameters": {}, "data_sha256": {}, "versions": {}}


# --- reading measurements ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (0.9, L.Measure(0.9)),
    (3, L.Measure(3.0)),
    ({"mean": 0.9, "lo": 0.85, "hi": 0.95}, L.Measure(0.9, 0.85, 0.95)),
    ({"estimate": 0.1, "ci_low": -0.02, "ci_high": 0.2}, L.Measure(0.1, -0.02, 0.2)),
    ({"mean": 0.9, "lo": None, "hi": None}, L.Measure(0.9)),
    ({"lo": 0.1}, None), ("0.9", None), (True, None), (float("nan"), None),
])
def test_to_measure(raw, expected):
    assert L.to_measure(raw) == expected


def test_measure_rejects_half_or_inverted_intervals():
    with pytest.raises(ValueError, match="both ends"):
        L.Measure(0.5, lo=0.4)
    with pytest.raises(ValueError, match="lo > hi"):
        L.Measure(0.5, 0.6, 0.4)


def test_lookup_paths_lists_and_ratios():
    results = {"a": {"b": [10, {"c": 4}]}, "n": {"pos": 118, "all": 477}}
    assert L.lookup(results, "a.b.0") == 10
    assert L.lookup(results, "a.b.1.c") == 4
    assert L.lookup(results, "n.pos/n.all") == pytest.approx(118 / 477)
    with pytest.raises(KeyError):
        L.lookup(results, "a.x")
    with pytest.raises(ValueError, match="non-zero denominator"):
        L.lookup({"p": 1, "q": 0}, "p/q")


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("measure, verdict", [
    (L.Measure(0.90, 0.86, 0.93), L.NOT_REPRODUCED),  # 0.97 far above the interval
    (L.Measure(0.95, 0.93, 0.966), L.REPRODUCED),  # 0.97 within half a unit of the upper end
    (L.Measure(0.95, 0.93, 0.964), L.NOT_REPRODUCED),
    (L.Measure(0.968), L.REPRODUCED),  # no interval: rounds to 0.97
    (L.Measure(0.96), L.NOT_REPRODUCED),
])
def test_within_interval_allows_for_rounding_only(measure, verdict):
    assert L.WithinInterval(0.97).decide({"value": measure}).verdict == verdict


def test_equals_compares_after_rounding():
    assert L.Equals(729).decide({"value": L.Measure(196)}).verdict == L.NOT_REPRODUCED
    assert L.Equals(0.27, decimals=2).decide({"value": L.Measure(0.2695)}).verdict == L.REPRODUCED
    assert L.Equals(5.6, decimals=1).decide({"value": L.Measure(1240 / 299)}).verdict == L.NOT_REPRODUCED


@pytest.mark.parametrize("diff, claimed, verdict, words", [
    (L.Measure(0.05, 0.02, 0.08), None, L.REPRODUCED, "above zero"),
    (L.Measure(0.01, -0.02, 0.04), None, L.NOT_REPRODUCED, "includes zero"),
    (L.Measure(-0.05, -0.08, -0.02), None, L.NOT_REPRODUCED, "reversed"),
    (L.Measure(0.05, 0.02, 0.08), 0.06, L.REPRODUCED, "above zero"),
    (L.Measure(0.02, 0.01, 0.03), 0.10, L.NOT_REPRODUCED, "outside"),
    (L.Measure(0.05), None, L.NOT_REPRODUCED, "no interval"),
])
def test_positive_effect(diff, claimed, verdict, words):
    decision = L.PositiveEffect(claimed=claimed).decide({"difference": diff})
    assert decision.verdict == verdict and words in decision.detail


def test_artifact_needs_the_seed_protocol_to_reproduce_and_the_sound_one_to_fail():
    rule = L.ArtifactOf(L.WithinInterval(0.97), L.WithinInterval(0.97))
    hit, miss = L.Measure(0.97, 0.96, 0.98), L.Measure(0.85, 0.82, 0.88)
    assert rule.decide({"seed": hit, "sound": miss}).verdict == L.ARTIFACT
    assert rule.decide({"seed": hit, "sound": hit}).verdict == L.REPRODUCED
    assert rule.decide({"seed": miss, "sound": miss}).verdict == L.NOT_REPRODUCED
    assert rule.decide({"seed": miss, "sound": hit}).verdict == L.NOT_REPRODUCED


def test_all_positive_signature_spots_balanced_test_folds():
    reported = {"accuracy": 0.50, "precision": 0.50, "recall": 1.00}
    rule = L.AllPositiveSignature(reported)
    assert rule.decide({"prevalence": L.Measure(118 / 477)}).verdict == L.ARTIFACT
    assert rule.decide({"prevalence": L.Measure(0.5)}).verdict == L.REPRODUCED
    other = L.AllPositiveSignature({"accuracy": 0.70, "precision": 0.60, "recall": 0.90})
    assert other.decide({"prevalence": L.Measure(0.25)}).verdict == L.NOT_REPRODUCED


# --- claims and assessment -------------------------------------------------------------------------

def claim(rule=None, paths=None, **kw):
    return L.Claim("c1", "dia", "a claim", "0.97", rule or L.WithinInterval(0.97),
                   paths if paths is not None else {"value": ("dia", "leak_free.auc")}, **kw)


def test_claim_checks_its_seed_and_paths():
    with pytest.raises(ValueError, match="seed must be one of"):
        L.Claim("x", "nope", "s", "r", L.Untestable("why"))
    with pytest.raises(ValueError, match="no path for measurement"):
        claim(paths={})


def test_assess_distinguishes_not_run_not_measured_and_bad_values():
    c = claim()
    assert L.assess(c, {"dia": None}).verdict == L.NOT_RUN
    assert L.assess(c, {}).verdict == L.NOT_RUN
    assert L.assess(c, {"dia": payload({"other": 1})}).verdict == L.NOT_MEASURED
    with pytest.raises(ValueError, match="dia.json: results.leak_free.auc"):
        L.assess(c, {"dia": payload({"leak_free": {"auc": "high"}})})
    a = L.assess(c, {"dia": payload({"leak_free": {"auc": {"mean": 0.96, "lo": 0.95, "hi": 0.98}}})})
    assert a.verdict == L.REPRODUCED and a.measured_text() == "0.96 [0.95, 0.98]"


def test_assess_tries_alternative_paths_in_order():
    c = claim(paths={"value": [("dia", "missing.auc"), ("dia", "leak_free.auc")]})
    a = L.assess(c, {"dia": payload({"leak_free": {"auc": 0.5}})})
    assert a.verdict == L.NOT_REPRODUCED and a.measures["value"].estimate == 0.5


def test_untestable_claims_need_no_results():
    c = L.Claim("u", "forum", "s", "r", L.Untestable("no data"))
    a = L.assess(c, {})
    assert (a.verdict, a.detail, a.measured_text()) == (L.UNTESTABLE, "no data", "—")


def test_ledger_refuses_duplicate_ids_and_counts_every_verdict():
    c = claim()
    with pytest.raises(ValueError, match="duplicate claim ids"):
        L.ledger([c, c], {})
    counts = L.verdict_counts(L.ledger([c], {}))
    assert counts[L.NOT_RUN] == 1 and set(counts) == set(L.VERDICTS) and sum(counts.values()) == 1


def test_seed_claims_cover_all_four_seeds_with_unique_ids():
    claims = L.seed_claims()
    assert {c.seed for c in claims} == set(L.SEEDS)
    assert len({c.id for c in claims}) == len(claims)
    with pytest.raises(ValueError, match="unknown seed"):
        L.seed_claims(["nope"])


def test_seed_claims_on_the_data_chapter_alone():
    """With only the data chapter's counts, the fact checks are decided and the rest wait."""
    data = payload({"dia": {"n_descriptors": 196, "n_train": 477, "n_train_positive": 118},
                    "acne": {"per_class": {"Blackheads": 1240, "Whiteheads": 299}}})
    by_id = {a.claim.id: a for a in L.ledger(L.seed_claims(), {"data": data})}
    assert by_id["dia-descriptors"].verdict == L.NOT_REPRODUCED
    assert by_id["dia-prevalence"].verdict == L.NOT_REPRODUCED
    assert by_id["dia-cnn-dice"].verdict == L.ARTIFACT
    assert by_id["acne-imbalance"].verdict == L.NOT_REPRODUCED
    assert by_id["dia-auc"].verdict == L.NOT_RUN
    assert by_id["forum-runs"].verdict == L.UNTESTABLE


def test_critique_effects():
    crit = L.Critique("k", "t", "e", ("data", "acne.share"), "fix")
    assert L.measure_effect(crit, {}) == (L.NOT_RUN, None)
    assert L.measure_effect(crit, {"data": payload({})}) == (L.NOT_MEASURED, None)
    assert L.measure_effect(crit, {"data": payload({"acne": {"share": 0.5}})}) == ("measured", L.Measure(0.5))
    assert L.chapters_needed(L.seed_claims(), L.CRITIQUES)[0] == "acne"


def test_tuple_paths_and_ratios_reach_keys_with_dots_and_spaces():
    results = {"table": {"noisy ranker": {"focal γ=2, α=0.25": 0.07, "BCE": 0.46}}, "at_0.9": {"0.5": 0.3}}
    assert L.lookup(results, ("at_0.9", "0.5")) == 0.3
    ratio = L.Ratio(("table", "noisy ranker", "focal γ=2, α=0.25"), ("table", "noisy ranker", "BCE"))
    assert L.lookup(results, ratio) == pytest.approx(0.07 / 0.46)
    with pytest.raises(KeyError):
        L.lookup(results, ("table", "missing"))
    with pytest.raises(ValueError, match="must be \\(chapter, path\\)"):
        L.Claim("x", "dia", "s", "r", L.WithinInterval(0.9), {"value": "dia"}).chapters


def test_below_rule_uses_the_upper_end_of_an_interval():
    rule = L.Below(1.0, explanation="scale")
    assert rule.decide({"value": L.Measure(0.15)}).verdict == L.ARTIFACT
    assert rule.decide({"value": L.Measure(0.9, 0.8, 1.1)}).verdict == L.NOT_REPRODUCED
    assert rule.decide({"value": L.Measure(1.2)}).verdict == L.NOT_REPRODUCED
    with pytest.raises(ValueError, match="verdict must be one of"):
        L.Below(1.0, verdict_below="maybe")


def test_fields_pick_named_keys_and_flip_a_difference():
    results = {"paired": {"mlp+bce": {"f1_diff": -0.02, "f1_ci_low": -0.05, "f1_ci_high": 0.01}}}
    flipped = L.lookup(results, L.Fields(("paired", "mlp+bce"), "f1_diff", "f1_ci_low", "f1_ci_high", sign=-1))
    assert L.to_measure(flipped) == L.Measure(0.02, -0.01, 0.05)
    with pytest.raises(KeyError):
        L.lookup(results, L.Fields(("paired", "mlp+bce"), "auc_diff"))


def test_fold_mean_gives_the_corrected_interval():
    from scipy import stats

    results = {"cv": {"auc": {"mean": 0.9, "std": 0.04}, "n_folds": 25}}
    m = L.to_measure(L.lookup(results, L.FoldMean(("cv", "auc"), ("cv", "n_folds"), test_over_train=0.25)))
    half = stats.t.ppf(0.975, 24) * 0.04 * (1 / 25 + 0.25) ** 0.5
    assert m.estimate == 0.9 and m.lo == pytest.approx(0.9 - half) and m.hi == pytest.approx(0.9 + half)
    # wider than the naive interval std / sqrt(n), which ignores overlapping training sets
    assert half > stats.t.ppf(0.975, 24) * 0.04 / 25 ** 0.5
    with pytest.raises(ValueError, match="at least 2 folds"):
        L.lookup({"cv": {"auc": {"mean": 0.9, "std": 0.1}, "n_folds": 1}}, L.FoldMean(("cv", "auc"), ("cv", "n_folds")))


def test_difference_of_two_estimates():
    results = {"leaky": {"auc": {"mean": 0.92, "std": 0.03}}, "sound": {"auc": {"mean": 0.70, "std": 0.07}}}
    assert L.lookup(results, L.Difference(("leaky", "auc"), ("sound", "auc"))) == pytest.approx(0.22)
    with pytest.raises(ValueError, match="needs two numbers"):
        L.lookup({"a": "x", "b": 1}, L.Difference("a", "b"))


def test_at_least():
    assert L.AtLeast(1, "seeds").decide({"value": L.Measure(2)}).verdict == L.REPRODUCED
    assert L.AtLeast(1, "seeds").decide({"value": L.Measure(0)}).verdict == L.NOT_REPRODUCED
