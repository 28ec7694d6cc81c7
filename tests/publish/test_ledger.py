"""The claims ledger's engine: reading Estimates from results files, the verdict rules, the sources' claims."""
from __future__ import annotations

import json

import pytest

from lossbook.core.estimate import Estimate
from lossbook.core.inference import minimum_detectable_effect, wilson_interval
from lossbook.core.paths import repo_root
from lossbook.publish import ledger as L
from lossbook.studies import claims as C


def payload(results, parameters=None):
    return {"chapter": "x", "results": results, "parameters": parameters or {}, "data_sha256": {}, "versions": {}}


def est(e, lo=None, hi=None, n=None, method="none"):
    return Estimate(e, lo, hi, n, method)


# --- reading measurements: one Estimate shape or plain numbers ----------------------------------

@pytest.mark.parametrize("raw, expected", [
    (0.9, est(0.9)),
    (3, est(3.0)),
    (Estimate(0.1, -0.02, 0.2, 10, "corrected_t").to_dict(), est(0.1, -0.02, 0.2, 10, "corrected_t")),
    ({"estimate": 0.9, "ci_low": None, "ci_high": None}, est(0.9)),
    # the old spellings are refused: the ledger reads one shape only
    ({"mean": 0.9, "lo": 0.85, "hi": 0.95}, None),
    ({"estimate": 0.1, "ci_low": -0.02, "ci_high": 0.2, "std": 0.1}, None),
    ({"diff": 0.1, "ci_low": 0.0, "ci_high": 0.2}, None),
    ({"estimate": None}, None), ("0.9", None), (True, None), (float("nan"), None),
])
def test_to_estimate_reads_only_estimates_and_numbers(raw, expected):
    assert L.to_estimate(raw) == expected


def test_lookup_paths_lists_and_ratios():
    p = payload({"a": {"b": [10, {"c": 4}]}, "n": {"pos": 118, "all": 477}})
    assert L.lookup(p, "a.b.0") == 10
    assert L.lookup(p, "a.b.1.c") == 4
    assert L.lookup(p, "n.pos/n.all").estimate == pytest.approx(118 / 477)
    with pytest.raises(KeyError):
        L.lookup(p, "a.x")
    with pytest.raises(ValueError, match="non-zero denominator"):
        L.lookup(payload({"p": 1, "q": 0}), "p/q")


def test_tuple_paths_and_ratios_reach_keys_with_dots_and_spaces():
    p = payload({"table": {"noisy ranker": {"focal γ=2, α=0.25": 0.07, "BCE": 0.46}}, "at_0.9": {"0.5": 0.3}})
    assert L.lookup(p, ("at_0.9", "0.5")) == 0.3
    ratio = C.Ratio(("table", "noisy ranker", "focal γ=2, α=0.25"), ("table", "noisy ranker", "BCE"))
    assert L.lookup(p, ratio).estimate == pytest.approx(0.07 / 0.46)
    with pytest.raises(KeyError):
        L.lookup(p, ("table", "missing"))


def test_difference_of_two_numbers_or_estimates():
    p = payload({"leaky": {"auc": Estimate(0.92, 0.9, 0.94).to_dict()}, "sound": {"auc": 0.70}})
    assert L.lookup(p, C.Difference(("leaky", "auc"), ("sound", "auc"))).estimate == pytest.approx(0.22)
    with pytest.raises(ValueError, match="needs two numbers"):
        L.lookup(payload({"a": "x", "b": 1}), C.Difference("a", "b"))


def test_negated_flips_an_estimate_and_its_interval():
    p = payload({"d": Estimate(0.02, -0.01, 0.05, 25, "corrected_t").to_dict(), "s": "x"})
    assert L.lookup(p, C.Negated("d")) == Estimate(-0.02, -0.05, 0.01, 25, "corrected_t")
    with pytest.raises(ValueError, match="to negate"):
        L.lookup(p, C.Negated("s"))


def test_standard_error_inverts_the_interval():
    from scipy import stats

    e = Estimate(0.1, 0.1 - stats.t.ppf(0.975, 9) * 0.02, 0.1 + stats.t.ppf(0.975, 9) * 0.02, 10, "t")
    assert L.standard_error(e) == (pytest.approx(0.02), 9)
    b = Estimate(0.1, 0.1 - 1.959964 * 0.02, 0.1 + 1.959964 * 0.02, 500, "bootstrap")
    assert L.standard_error(b) == (pytest.approx(0.02, rel=1e-5), None)


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("measure, verdict", [
    (est(0.90, 0.86, 0.93), L.REFUTED),  # 0.97 far above the interval
    (est(0.95, 0.93, 0.966), L.REPRODUCED),  # 0.97 within half a unit of the upper end
    (est(0.95, 0.93, 0.964), L.REFUTED),
    (est(0.968), L.REPRODUCED),  # no interval: rounds to 0.97
    (est(0.96), L.REFUTED),
])
def test_within_interval_allows_for_rounding_only(measure, verdict):
    assert L.WithinInterval(0.97).decide({"value": measure}).verdict == verdict


def test_equals_compares_after_rounding():
    assert L.Equals(729).decide({"value": est(196)}).verdict == L.REFUTED
    assert L.Equals(0.27, decimals=2).decide({"value": est(0.2695)}).verdict == L.REPRODUCED
    assert L.Equals(5.6, decimals=1).decide({"value": est(1240 / 299)}).verdict == L.REFUTED


@pytest.mark.parametrize("diff, claimed, verdict, words", [
    (est(0.05, 0.02, 0.08, 10, "t"), 0.06, L.REPRODUCED, "excludes zero and holds"),
    (est(2.57, 1.80, 3.40, 500, "bootstrap"), 13, L.REFUTED, "direction holds"),  # the tutorial's +13
    (est(-0.005, -0.019, 0.009, 10, "corrected_t"), 0.06, L.REFUTED, "holds zero and excludes"),
    (est(0.01, -0.05, 0.09, 10, "corrected_t"), 0.06, L.INCONCLUSIVE, "minimum detectable effect"),
    (est(-0.05, -0.08, -0.02, 10, "t"), 0.06, L.REFUTED, "reversed"),
    (est(-0.05, -0.08, -0.02, 10, "t"), -0.04, L.REPRODUCED, "excludes zero"),  # a claimed decrease
    (est(0.05), 0.06, L.INCONCLUSIVE, "without an interval"),
])
def test_effect_is_judged_three_ways_against_the_claimed_size(diff, claimed, verdict, words):
    decision = L.Effect(claimed=claimed).decide({"difference": diff})
    assert decision.verdict == verdict and words in decision.detail


def test_effect_reports_the_minimum_detectable_effect_when_the_interval_holds_zero():
    d = Estimate(0.01, -0.05, 0.07, 10, "corrected_t")
    decision = L.Effect(claimed=0.06).decide({"difference": d})
    se, df = L.standard_error(d)
    assert decision.extras["mde"] == pytest.approx(minimum_detectable_effect(se, df=df))
    assert "mde" not in L.Effect(claimed=0.06).decide({"difference": est(0.05, 0.02, 0.08, 10, "t")}).extras
    with pytest.raises(ValueError, match="non-zero claimed size"):
        L.Effect(claimed=0)


@pytest.mark.parametrize("k, n, verdict", [(4, 50, L.ATYPICAL), (0, 50, L.REFUTED), (45, 50, L.REPRODUCED),
                                           (5, 10, L.INCONCLUSIVE)])
def test_frequency_of_an_existence_claim(k, n, verdict):
    assert L.Frequency(what="seeds").decide({"value": wilson_interval(k, n)}).verdict == verdict
    with pytest.raises(ValueError, match="Wilson"):
        L.Frequency().decide({"value": est(0.1)})


def test_artifact_needs_the_source_protocol_to_reproduce_and_the_sound_one_to_refute():
    rule = L.ArtifactOf(L.WithinInterval(0.97), L.WithinInterval(0.97))
    hit, miss = est(0.97, 0.96, 0.98), est(0.85, 0.82, 0.88)
    assert rule.decide({"source": hit, "sound": miss}).verdict == L.ARTIFACT
    assert rule.decide({"source": hit, "sound": hit}).verdict == L.REPRODUCED
    assert rule.decide({"source": miss, "sound": miss}).verdict == L.REFUTED
    assert rule.decide({"source": miss, "sound": hit}).verdict == L.REFUTED


def test_all_positive_signature_spots_balanced_test_folds():
    rule = L.AllPositiveSignature({"accuracy": 0.50, "precision": 0.50, "recall": 1.00})
    assert rule.decide({"prevalence": est(118 / 477)}).verdict == L.ARTIFACT
    assert rule.decide({"prevalence": est(0.5)}).verdict == L.REPRODUCED
    other = L.AllPositiveSignature({"accuracy": 0.70, "precision": 0.60, "recall": 0.90})
    assert other.decide({"prevalence": est(0.25)}).verdict == L.REFUTED


def test_below_rule_uses_the_upper_end_of_an_interval():
    rule = L.Below(1.0, explanation="scale")
    assert rule.decide({"value": est(0.15)}).verdict == L.ARTIFACT
    assert rule.decide({"value": est(0.9, 0.8, 1.1)}).verdict == L.INCONCLUSIVE
    with pytest.raises(ValueError, match="verdict must be one of"):
        L.Below(1.0, verdict_below="maybe")


def test_scale_differs():
    assert L.ScaleDiffers(1.0).decide({"value": est(1.2, 1.1, 1.3)}).verdict == L.ARTIFACT
    assert L.ScaleDiffers(1.0).decide({"value": est(1.0, 0.95, 1.05)}).verdict == L.INCONCLUSIVE
    assert L.ScaleDiffers(0.0).decide({"value": est(-0.3)}).verdict == L.ARTIFACT


def test_build_rule_resolves_names_and_nested_rules():
    rule = L.build_rule(C.rule("artifact_of", source_rule=C.rule("within", reported=0.9),
                               sound_rule=C.rule("within", reported=0.9)))
    assert isinstance(rule, L.ArtifactOf) and isinstance(rule.sound_rule, L.WithinInterval)
    with pytest.raises(ValueError, match="unknown rule"):
        L.build_rule(C.rule("nope"))
    with pytest.raises(ValueError, match="rule 'effect'"):
        L.build_rule(C.rule("effect", size=1))


# --- claims and assessment -------------------------------------------------------------------------

def claim(rule=None, paths=None, **kw):
    return C.Claim("c1", "dia", "a claim", "0.97", rule or C.rule("within", reported=0.97),
                   paths if paths is not None else {"value": ("dia", "leak_free.auc")}, **kw)


def test_claim_checks_its_source_and_paths():
    with pytest.raises(ValueError, match="source must be one of"):
        C.Claim("x", "nope", "s", "r", C.rule("untestable", reason="why"))
    with pytest.raises(ValueError, match="must be \\(chapter, path\\)"):
        C.Claim("x", "dia", "s", "r", C.rule("within", reported=0.9), {"value": "dia"})
    with pytest.raises(ValueError, match="no path for measurement"):
        L.assess(claim(paths={}), {})


def test_assess_distinguishes_not_run_not_measured_and_bad_values():
    c = claim()
    assert L.assess(c, {"dia": None}).verdict == L.NOT_RUN
    assert L.assess(c, {}).verdict == L.NOT_RUN
    assert L.assess(c, {"dia": payload({"other": 1})}).verdict == L.NOT_MEASURED
    with pytest.raises(ValueError, match="dia.json: results.leak_free.auc"):
        L.assess(c, {"dia": payload({"leak_free": {"auc": "high"}})})
    with pytest.raises(ValueError, match="not a number or an Estimate"):
        L.assess(c, {"dia": payload({"leak_free": {"auc": {"mean": 0.96, "lo": 0.95, "hi": 0.98}}})})
    a = L.assess(c, {"dia": payload({"leak_free": {"auc": Estimate(0.96, 0.95, 0.98).to_dict()}})})
    assert a.verdict == L.REPRODUCED and a.measured_text() == "0.960 [0.950, 0.980]"


def test_evidence_lines_are_shown_beside_the_measurement_and_never_judged():
    c = claim(evidence={"over lengths": ("robustness", "finding"), "absent": ("robustness", "nowhere")})
    results = {"dia": payload({"leak_free": {"auc": Estimate(0.96, 0.95, 0.98).to_dict()}}),
               "robustness": payload({"finding": "depends on training length"})}
    a = L.assess(c, results)
    assert a.verdict == L.REPRODUCED  # the same verdict as without the evidence
    assert a.measured_text() == "0.960 [0.950, 0.980]; over lengths: depends on training length"
    assert L.assess(c, {"dia": results["dia"]}).measured_text() == "0.960 [0.950, 0.980]"  # not run: left out


def test_untestable_claims_need_no_results_but_show_context():
    c = C.Claim("u", "forum", "s", "r", C.rule("untestable", reason="no data"), {"context": ("forum", "x")})
    a = L.assess(c, {})
    assert (a.verdict, a.detail, a.measured_text()) == (L.UNTESTABLE, "no data", "—")
    a = L.assess(c, {"forum": payload({"x": Estimate(0.1, 0.0, 0.2).to_dict()})})
    assert a.verdict == L.UNTESTABLE and a.measures["context"].estimate == 0.1


def test_ledger_refuses_duplicate_ids_and_counts_every_verdict():
    c = claim()
    with pytest.raises(ValueError, match="duplicate claim ids"):
        L.ledger([c, c], {})
    counts = L.verdict_counts(L.ledger([c], {}))
    assert counts[L.NOT_RUN] == 1 and set(counts) == set(L.VERDICTS) and sum(counts.values()) == 1


def test_source_claims_cover_all_four_sources_with_unique_ids_and_sizes():
    claims = L.source_claims()
    assert {c.source for c in claims} == set(L.SOURCES)
    assert len({c.id for c in claims}) == len(claims)
    for c in claims:  # every claim's rule builds, and every effect claim carries its claimed size
        rule = L.build_rule(c.rule)
        if isinstance(rule, L.Effect):
            assert rule.claimed != 0
    with pytest.raises(ValueError, match="unknown source"):
        L.source_claims(["nope"])


def test_no_source_is_called_a_seed_document():
    text = json.dumps([[s.short, s.title] for s in C.SOURCES.values()])
    text += json.dumps([[c.statement, c.measured_as, c.tested] for c in C.claims()])
    assert "seed document" not in text.lower()


def test_source_claims_on_the_data_chapter_alone():
    """With only the data chapter's counts, the fact checks are decided and the rest wait."""
    data = payload({"dia": {"n_descriptors": 196, "n_train": 477, "n_train_positive": 118},
                    "acne": {"per_class": {"Blackheads": 1240, "Whiteheads": 299}}})
    by_id = {a.claim.id: a for a in L.ledger(L.source_claims(), {"data": data})}
    assert by_id["dia-descriptors"].verdict == L.REFUTED
    assert by_id["dia-prevalence"].verdict == L.REFUTED
    assert by_id["dia-cnn-dice"].verdict == L.ARTIFACT
    assert by_id["acne-imbalance"].verdict == L.REFUTED
    assert by_id["dia-auc"].verdict == L.NOT_RUN
    assert by_id["forum-runs"].verdict == L.UNTESTABLE


def test_critique_effects():
    crit = C.Critique("k", "t", "e", ("data", "acne.share"), "fix",
                      also={"range": [("data", "acne.lo"), ("data", "acne.hi")]})
    assert L.measure_effect(crit, {}) == (L.NOT_RUN, None)
    assert L.measure_effect(crit, {"data": payload({})}) == (L.NOT_MEASURED, None)
    filled = {"data": payload({"acne": {"share": 0.5, "lo": 0.1, "hi": 0.2}})}
    assert L.measure_effect(crit, filled) == ("measured", est(0.5))
    assert L.critique_texts(crit, filled)["text"] == "0.500 (range [0.100, 0.200])"
    assert L.chapters_needed(L.source_claims(), L.CRITIQUES)[0] == "acne"


# --- the committed results: every path resolves ------------------------------------------------------

def test_every_claim_and_critique_path_resolves_in_the_committed_results():
    """Renaming a results key must not silently turn a verdict into "not measured".

    Checks every claim and critique, DIA included, against book/results/*.json:
    each measurement must exist and be a number or an Estimate.
    """
    from lossbook.publish import report

    claims = L.source_claims()
    results = report.load_all(L.chapters_needed(claims, L.CRITIQUES), repo_root() / "book")
    missing = sorted(chapter for chapter, p in results.items() if p is None)
    assert not missing, f"no committed results file for {missing}"
    unresolved = []
    for c in claims:
        for name, (chapter, path) in c.paths.items():
            found = L._measure(results, chapter, path)  # raises for a value of the wrong shape
            if isinstance(found, str):
                unresolved.append(f"{c.id}.{name}: {chapter}:{L._path_text(path)}")
    for crit in L.CRITIQUES:
        specs = [crit.path] + [p for s in crit.also.values() for p in (s if isinstance(s, list) else [s])]
        for chapter, path in specs:
            if isinstance(L._measure(results, chapter, path), str):
                unresolved.append(f"critique {crit.id}: {chapter}:{L._path_text(path)}")
    assert not unresolved, "paths with no value in book/results: " + "; ".join(unresolved)


def test_counts_sentence_names_only_verdicts_that_occur():
    text = L.counts_sentence({L.REPRODUCED: 2, L.REFUTED: 1, L.NOT_RUN: 0,
                                   L.UNTESTABLE: 1})
    assert text == "Of 4 claims, the ledger finds 2 reproduced, 1 refuted and 1 that cannot be tested here."
    assert "0" not in text
    assert L.counts_sentence({L.NOT_RUN: 0}) == "Of 0 claims, none has a verdict yet."


def test_every_verdict_has_a_colour_of_its_own():
    colors = L.verdict_colors()
    assert set(colors) == set(L.VERDICTS)
    assert len(set(colors.values())) == len(colors)


def test_front_page_lists_every_claim_of_the_ledger_once_in_its_order():
    """book/intro.md has one table row per claim (glued statement and verdict): a claim added,
    removed or renamed in lossbook.studies.claims must show up there."""
    import re

    from lossbook.core.paths import repo_root

    intro = (repo_root() / "book" / "intro.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| [^|]+ \| \{glue:text\}`claims\.ipynb::claim_(\w+)_statement:s` \|"
                      r" \*\{glue:text\}`claims\.ipynb::claim_(\w+)_verdict:s`\* \|$", intro, re.MULTILINE)
    assert all(statement == verdict for statement, verdict in rows), "a row mixes two claims"
    ledger_ids = [c.id.replace("-", "_") for c in L.source_claims()]
    assert [statement for statement, _ in rows] == ledger_ids
