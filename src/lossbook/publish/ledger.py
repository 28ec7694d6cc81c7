"""The claims ledger: every headline claim of the four seed documents, and the rule that judges it.

A :class:`Claim` pairs a statement a seed document makes (the *reported*
value, a fact about that document) with where the book measured the same
thing (a chapter and a path into its results file) and a :class:`Rule` that
turns the measurement into one of the verdicts in :data:`VERDICTS`.
:func:`assess` applies the rule; it never looks at anything but the results
files, so a verdict changes only when a chapter's numbers change.

Verdicts
--------
``reproduced``
    The book measured the reported value (or effect) under the same conditions.
``not reproduced``
    It measured something else, or no detectable effect.
``explained by an artifact of the protocol``
    The reported number does occur, but only under a flaw of the protocol
    (leakage, a balanced test set, a fixed threshold, comparing loss values);
    under a sound protocol it goes away.
``cannot be tested here``
    The data or the setup needed are not available (stated per claim).
``not yet run``
    The chapter holding the measurement has no results file yet.
``not measured``
    The chapter ran, but its results file has no entry at the claim's path.

Measurements
------------
A path is a dotted sequence of keys into ``payload["results"]``, e.g.
``"reproduction.mlp.focal.roc_auc"``. The value there is either a number or a
mapping with an estimate and, optionally, an interval; accepted key names are in
:data:`ESTIMATE_KEYS`, :data:`LOW_KEYS` and :data:`HIGH_KEYS`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
ARTIFACT = "explained by an artifact of the protocol"
UNTESTABLE = "cannot be tested here"
NOT_RUN = "not yet run"
NOT_MEASURED = "not measured"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, ARTIFACT, UNTESTABLE, NOT_RUN, NOT_MEASURED)

ESTIMATE_KEYS = ("estimate", "mean", "value", "median", "diff", "difference", "point")
LOW_KEYS = ("lo", "low", "lower", "ci_low", "ci_lo", "ci_lower")
HIGH_KEYS = ("hi", "high", "upper", "ci_high", "ci_hi", "ci_upper")

#: The seed documents, keyed as in ``shared/seeds/README.md``, with their bibliography keys.
SEEDS = {
    "dia": ("DIA paper", "bits2025dia"),
    "acne": ("acne paper", "sidik2026acne"),
    "synthetic": ("tutorial", "marktechpost2025focal"),
    "forum": ("forum post", "tfforum2023focal"),
}


@dataclass(frozen=True)
class Measure:
    """A measured value with an optional interval ``[lo, hi]`` (both or neither)."""

    estimate: float
    lo: float | None = None
    hi: float | None = None

    def __post_init__(self):
        if not _is_finite(self.estimate):
            raise ValueError(f"estimate must be a finite number, got {self.estimate!r}")
        if (self.lo is None) != (self.hi is None):
            raise ValueError("give both ends of the interval or neither")
        if self.lo is not None and not (self.lo <= self.hi):
            raise ValueError(f"interval [{self.lo}, {self.hi}] has lo > hi")

    @property
    def has_interval(self) -> bool:
        return self.lo is not None

    def format(self, decimals: int = 2) -> str:
        text = f"{self.estimate:.{decimals}f}"
        if self.has_interval:
            text += f" [{self.lo:.{decimals}f}, {self.hi:.{decimals}f}]"
        return text


def _is_finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _first(mapping: Mapping, keys: Sequence[str]):
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return None


def to_measure(value: Any) -> Measure | None:
    """A :class:`Measure` from a number or a mapping (see :data:`ESTIMATE_KEYS`); None if neither."""
    if _is_finite(value):
        return Measure(float(value))
    if isinstance(value, Mapping):
        estimate = _first(value, ESTIMATE_KEYS)
        if not _is_finite(estimate):
            return None
        lo, hi = _first(value, LOW_KEYS), _first(value, HIGH_KEYS)
        if _is_finite(lo) and _is_finite(hi):
            return Measure(float(estimate), float(lo), float(hi))
        return Measure(float(estimate))
    return None


@dataclass(frozen=True)
class Ratio:
    """A path to the ratio of two numbers in a results file (each a dotted string or a tuple of keys)."""

    numerator: Any
    denominator: Any

    def __str__(self):
        return f"{_path_text(self.numerator)} / {_path_text(self.denominator)}"


@dataclass(frozen=True)
class Fields:
    """A path to a mapping whose estimate and interval sit under given key names.

    ``sign=-1`` flips a difference (``other - reference`` becomes
    ``reference - other``), swapping the interval's ends.
    """

    path: Any
    estimate: str
    lo: str | None = None
    hi: str | None = None
    sign: int = 1

    def __str__(self):
        return f"{'-' if self.sign < 0 else ''}{_path_text(self.path)}.{self.estimate}"


@dataclass(frozen=True)
class FoldMean:
    """A path to ``{"mean", "std"}`` of a metric over ``n_folds`` CV folds (and repeats).

    Gives the mean with the corrected resampled *t* interval of Nadeau and
    Bengio (2003): half-width ``t(0.975, n - 1) * std * sqrt(1/n + test_over_train)``,
    which accounts for overlapping training sets (``test_over_train`` is
    ``1 / (k - 1)`` for *k*-fold CV).
    """

    path: Any
    n_folds_path: Any
    test_over_train: float = 0.25
    level: float = 0.95

    def __str__(self):
        return f"{_path_text(self.path)} (fold mean)"


@dataclass(frozen=True)
class Difference:
    """A path to the difference of two estimates, ``a - b`` (no interval: the two are not paired here)."""

    a: Any
    b: Any

    def __str__(self):
        return f"{_path_text(self.a)} - {_path_text(self.b)}"


def _path_text(path) -> str:
    if isinstance(path, (Ratio, Fields, FoldMean, Difference)):
        return str(path)
    return path if isinstance(path, str) else ".".join(map(str, path))


def lookup(results: Mapping, path) -> Any:
    """The value at ``path`` in ``results``; KeyError if absent.

    ``path`` is a dotted string (``"a.b.0"``; list items by integer index), a
    tuple of keys (for keys that contain dots or spaces), or a :class:`Ratio`.
    ``"a.b/c.d"`` is shorthand for ``Ratio("a.b", "c.d")`` (shares and imbalance
    ratios computed from counts).
    """
    if isinstance(path, str) and "/" in path:
        path = Ratio(*path.split("/", 1))
    if isinstance(path, Difference):
        a, b = to_measure(lookup(results, path.a)), to_measure(lookup(results, path.b))
        if a is None or b is None:
            raise ValueError(f"{path}: needs two numbers or estimate mappings")
        return a.estimate - b.estimate
    if isinstance(path, Fields):
        node = lookup(results, path.path)
        if not isinstance(node, Mapping) or path.estimate not in node:
            raise KeyError(str(path))
        est = node[path.estimate]
        lo, hi = (node.get(path.lo), node.get(path.hi)) if path.lo and path.hi else (None, None)
        if path.sign < 0:
            est = -est if _is_finite(est) else est
            lo, hi = (-hi if _is_finite(hi) else None), (-lo if _is_finite(lo) else None)
        return {"estimate": est, "lo": lo, "hi": hi}
    if isinstance(path, FoldMean):
        from scipy import stats

        node, n = lookup(results, path.path), lookup(results, path.n_folds_path)
        if not isinstance(node, Mapping) or not _is_finite(node.get("mean")) or not _is_finite(node.get("std")):
            raise KeyError(str(path))
        if not _is_finite(n) or n < 2:
            raise ValueError(f"{path}: needs at least 2 folds, got {n!r}")
        half = stats.t.ppf(0.5 + path.level / 2, int(n) - 1) * node["std"] * math.sqrt(1 / n + path.test_over_train)
        return {"mean": node["mean"], "lo": node["mean"] - half, "hi": node["mean"] + half}
    if isinstance(path, Ratio):
        num, den = lookup(results, path.numerator), lookup(results, path.denominator)
        if not (_is_finite(num) and _is_finite(den)) or den == 0:
            raise ValueError(f"{path}: needs two numbers with a non-zero denominator, got {num!r} and {den!r}")
        return num / den
    parts = path.split(".") if isinstance(path, str) else [str(p) for p in path]
    node: Any = results
    for part in parts:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(_path_text(path))
    return node


# --------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class Decision:
    verdict: str
    detail: str


class Rule:
    """Turns the measurements of a claim (name -> Measure) into a :class:`Decision`."""

    #: names of the measurements the rule needs
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures: Mapping[str, Measure]) -> Decision:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class WithinInterval(Rule):
    """Reproduced when the reported value lies in the measured interval, widened by the reported rounding.

    A value printed with ``decimals`` decimals stands for anything within half a
    unit of its last digit, so the interval is widened by ``0.5 * 10**-decimals``.
    Without an interval the estimate itself must round to the reported value.
    """

    reported: float
    decimals: int = 2
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures):
        m = measures["value"]
        slack = 0.5 * 10 ** -self.decimals
        if m.has_interval:
            inside = m.lo - slack <= self.reported <= m.hi + slack
            where = f"{self.reported:.{self.decimals}f} {'inside' if inside else 'outside'} [{m.lo:.{self.decimals + 1}f}, {m.hi:.{self.decimals + 1}f}]"
        else:
            inside = abs(m.estimate - self.reported) <= slack + 1e-12
            where = f"{self.reported:.{self.decimals}f} vs measured {m.estimate:.{self.decimals + 1}f} (no interval)"
        return Decision(REPRODUCED if inside else NOT_REPRODUCED, where)


@dataclass(frozen=True)
class Equals(Rule):
    """Reproduced when the measured value equals the reported one after rounding to ``decimals``."""

    reported: float
    decimals: int = 0
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures):
        m = measures["value"]
        same = round(m.estimate, self.decimals) == round(self.reported, self.decimals)
        return Decision(REPRODUCED if same else NOT_REPRODUCED,
                        f"reported {self.reported:.{self.decimals}f}, measured {m.estimate:.{self.decimals}f}")


@dataclass(frozen=True)
class PositiveEffect(Rule):
    """For a claimed improvement: reproduced when the interval of the paired difference lies above zero.

    ``minimum`` optionally demands the interval also reach the claimed size
    (e.g. the reported +0.06): then the claimed size must lie inside it.
    """

    claimed: float | None = None
    decimals: int = 2
    needs: tuple[str, ...] = ("difference",)

    def decide(self, measures):
        d = measures["difference"]
        if not d.has_interval:
            return Decision(NOT_REPRODUCED, "no interval for the difference: an effect cannot be established")
        if d.lo > 0:
            if self.claimed is not None:
                slack = 0.5 * 10 ** -self.decimals
                if not (d.lo - slack <= self.claimed <= d.hi + slack):
                    return Decision(NOT_REPRODUCED, f"an improvement, but the claimed {self.claimed:+.{self.decimals}f} "
                                                    f"is outside [{d.lo:+.3f}, {d.hi:+.3f}]")
            return Decision(REPRODUCED, f"difference {d.format(3)} lies above zero")
        if d.hi < 0:
            return Decision(NOT_REPRODUCED, f"reversed: difference {d.format(3)} lies below zero")
        return Decision(NOT_REPRODUCED, f"no detectable difference: {d.format(3)} includes zero")


@dataclass(frozen=True)
class ArtifactOf(Rule):
    """A claim that holds under the seed's protocol and is re-checked under a sound one.

    ``seed_rule`` judges the measurement ``"seed"`` (the seed's protocol) and
    ``sound_rule`` the measurement ``"sound"`` (the book's protocol). If the claim
    holds under both it is reproduced; under the seed's protocol only, it is an
    artifact of that protocol; if it fails under the seed's own protocol it is
    not reproduced.
    """

    seed_rule: Rule
    sound_rule: Rule
    needs: tuple[str, ...] = ("seed", "sound")

    def decide(self, measures):
        under_seed = self.seed_rule.decide(_rename(measures, "seed", self.seed_rule))
        under_sound = self.sound_rule.decide(_rename(measures, "sound", self.sound_rule))
        detail = f"seed's protocol: {under_seed.detail}; sound protocol: {under_sound.detail}"
        if under_seed.verdict != REPRODUCED:
            return Decision(NOT_REPRODUCED, detail)
        if under_sound.verdict == REPRODUCED:
            return Decision(REPRODUCED, detail)
        return Decision(ARTIFACT, detail)


def _rename(measures: Mapping[str, Measure], name: str, rule: Rule) -> dict:
    return {rule.needs[0]: measures[name]}


@dataclass(frozen=True)
class AllPositiveSignature(Rule):
    """Reported scores that are exactly those of "call everything positive" on a *balanced* test set.

    ``reported`` holds accuracy, precision and recall as printed. The classifier
    that calls every example positive scores accuracy = precision = prevalence
    and recall = 1. If the reported scores match that classifier at prevalence
    0.5 but the data's real prevalence (the measurement ``"prevalence"``) is not
    0.5, the test folds must have been balanced (oversampled before splitting):
    an artifact of the protocol.
    """

    reported: Mapping[str, float] = field(default_factory=dict)
    decimals: int = 2
    needs: tuple[str, ...] = ("prevalence",)

    def decide(self, measures):
        prevalence = measures["prevalence"].estimate
        slack = 0.5 * 10 ** -self.decimals + 1e-12

        def matches(p):
            expected = {"accuracy": p, "precision": p, "recall": 1.0}
            return all(abs(self.reported[k] - v) <= slack for k, v in expected.items() if k in self.reported)

        if not matches(0.5):
            return Decision(NOT_REPRODUCED, "the reported scores are not those of an all-positive classifier")
        if matches(prevalence):
            return Decision(REPRODUCED, f"all-positive scores at the data's own prevalence {prevalence:.3f}")
        return Decision(ARTIFACT, f"all-positive scores on a 1:1 test set; the data's prevalence is {prevalence:.3f}, "
                                  f"where the same classifier scores accuracy = precision = {prevalence:.2f}")


@dataclass(frozen=True)
class Below(Rule):
    """``verdict_below`` when the measured value is below ``limit``, else ``verdict_otherwise``.

    For claims whose evidence is a property of the method rather than a
    re-run: e.g. "focal loss is lower, so it is better" is explained by the
    loss's scale when focal loss is below BCE on identical predictions (ratio < 1).
    """

    limit: float = 1.0
    verdict_below: str = ARTIFACT
    verdict_otherwise: str = NOT_REPRODUCED
    explanation: str = ""
    needs: tuple[str, ...] = ("value",)

    def __post_init__(self):
        for v in (self.verdict_below, self.verdict_otherwise):
            if v not in VERDICTS:
                raise ValueError(f"verdict must be one of {VERDICTS}, got {v!r}")

    def decide(self, measures):
        m = measures["value"]
        below = m.hi < self.limit if m.has_interval else m.estimate < self.limit
        relation = "below" if below else "not below"
        detail = f"measured {m.format(3)} is {relation} {self.limit:g}" + (f": {self.explanation}" if below and self.explanation else "")
        return Decision(self.verdict_below if below else self.verdict_otherwise, detail)


@dataclass(frozen=True)
class AtLeast(Rule):
    """Reproduced when the measured value (e.g. a count of runs showing the claimed outcome) is >= ``limit``."""

    limit: float = 1.0
    what: str = ""
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures):
        m = measures["value"]
        ok = m.estimate >= self.limit
        return Decision(REPRODUCED if ok else NOT_REPRODUCED,
                        f"{m.estimate:g} {self.what} ({'at least' if ok else 'fewer than'} {self.limit:g})".strip())


@dataclass(frozen=True)
class Untestable(Rule):
    """The claim cannot be checked with what this book has; ``reason`` says why."""

    reason: str = ""
    needs: tuple[str, ...] = ()

    def decide(self, measures):
        return Decision(UNTESTABLE, self.reason)


# --------------------------------------------------------------------------- claims

@dataclass(frozen=True)
class Claim:
    """One headline claim of a seed document and where the book checks it.

    ``paths`` maps each measurement the rule needs to ``(chapter, dotted path)``
    or a tuple of alternatives tried in order (the first present wins).
    ``section`` is the MyST label of the section that shows the evidence.
    """

    id: str
    seed: str
    statement: str
    reported: str
    rule: Rule
    paths: Mapping[str, Any] = field(default_factory=dict)
    section: str | None = None
    decimals: int = 2
    measured_as: str = ""  # what the measured number is, when it is not the claimed quantity itself
    labels: Mapping[str, str] = field(default_factory=dict)  # names of the measurements, for display

    def __post_init__(self):
        if self.seed not in SEEDS:
            raise ValueError(f"claim {self.id}: seed must be one of {sorted(SEEDS)}, got {self.seed!r}")
        missing = set(self.rule.needs) - set(self.paths)
        if missing:
            raise ValueError(f"claim {self.id}: no path for measurement(s) {sorted(missing)}")

    @property
    def chapters(self) -> list[str]:
        found = []
        for spec in self.paths.values():
            for chapter, _ in _alternatives(spec):
                if chapter not in found:
                    found.append(chapter)
        return found


def _alternatives(spec) -> list[tuple[str, Any]]:
    """``(chapter, path)`` or a list of such alternatives -> a list of alternatives."""
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        return [spec]
    if isinstance(spec, list):
        return [tuple(s) for s in spec]
    raise ValueError(f"a measurement path must be (chapter, path) or a list of them, got {spec!r}")


@dataclass(frozen=True)
class Assessment:
    claim: Claim
    verdict: str
    detail: str
    measures: Mapping[str, Measure]

    def value_text(self) -> str:
        """The measurement(s) alone, without the ``measured_as`` label (for glued prose)."""
        if not self.measures:
            return self.verdict
        return "; ".join(m.format(self.claim.decimals) for m in self.measures.values()) if len(self.measures) == 1 \
            else "; ".join(f"{self.claim.labels.get(k, k)}: {m.format(self.claim.decimals)}" for k, m in self.measures.items())

    def measured_text(self) -> str:
        if not self.measures:
            return "—"
        if len(self.measures) == 1:
            text = next(iter(self.measures.values())).format(self.claim.decimals)
            return f"{self.claim.measured_as} {text}".strip()
        return "; ".join(f"{self.claim.labels.get(k, k)}: {m.format(self.claim.decimals)}"
                         for k, m in self.measures.items())


def assess(claim: Claim, results: Mapping[str, Mapping | None]) -> Assessment:
    """Judge one claim from the loaded results files (``{chapter: payload or None}``).

    A missing results file gives ``not yet run``; a results file without any of
    the claim's paths gives ``not measured``; a value that is not a number or
    an estimate mapping raises ``ValueError`` naming the chapter and path.
    """
    if isinstance(claim.rule, Untestable):
        decision = claim.rule.decide({})
        return Assessment(claim, decision.verdict, decision.detail, {})
    measures = {}
    for name in claim.rule.needs:
        alternatives = _alternatives(claim.paths[name])
        not_run = [c for c, _ in alternatives if results.get(c) is None]
        found = None
        for chapter, path in alternatives:
            payload = results.get(chapter)
            if payload is None:
                continue
            try:
                raw = lookup(payload.get("results", {}), path)
            except KeyError:
                continue
            found = to_measure(raw)
            if found is None:
                raise ValueError(f"{chapter}.json: results.{_path_text(path)} "
                                 f"is not a number or an estimate mapping: {raw!r}")
            break
        if found is None:
            if len(not_run) == len(alternatives):
                return Assessment(claim, NOT_RUN, f"no results file for {', '.join(sorted(set(not_run)))}", {})
            wanted = " or ".join(f"{c}:{_path_text(p)}" for c, p in alternatives)
            return Assessment(claim, NOT_MEASURED, f"results file has no {wanted}", {})
        measures[name] = found
    decision = claim.rule.decide(measures)
    return Assessment(claim, decision.verdict, decision.detail, measures)


def ledger(claims: Sequence[Claim], results: Mapping[str, Mapping | None]) -> list[Assessment]:
    """Assess every claim; ids must be unique."""
    ids = [c.id for c in claims]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate claim ids: {duplicates}")
    return [assess(c, results) for c in claims]


def verdict_counts(assessments: Sequence[Assessment]) -> dict[str, int]:
    """How many claims got each verdict (every verdict present, zeros included)."""
    counts = {v: 0 for v in VERDICTS}
    for a in assessments:
        counts[a.verdict] += 1
    return counts


# --------------------------------------------------------------------------- the seeds' claims

def _dia_claims() -> list[Claim]:
    from lossbook.studies.dia import PAPER_FACTS, PAPER_TABLE1

    best = PAPER_TABLE1[("mlp", "focal")]
    collapse = PAPER_TABLE1[("cnn", "dice")]
    prevalence = ("data", "dia.n_train_positive/dia.n_train")

    def cv(protocol, metric, config="mlp+focal"):
        # mean over folds and repeats with the corrected resampled t interval (5-fold: test/train = 1/4)
        return ("dia", FoldMean((protocol, config, metric), (protocol, config, "n_folds"), test_over_train=0.25))

    def table_claim(cid, metric, words):
        return Claim(cid, "dia", f"MLP with focal loss reaches {words} {best[metric]:.2f} in stratified 5-fold CV",
                     f"{best[metric]:.2f}",
                     ArtifactOf(WithinInterval(best[metric]), WithinInterval(best[metric])),
                     {"seed": cv("leaky", metric), "sound": cv("leak_free", metric)}, section="chapter-dia",
                     decimals=3, labels={"seed": "leaky", "sound": "leak-free"})

    return [
        table_claim("dia-auc", "roc_auc", "ROC-AUC"),
        table_claim("dia-accuracy", "accuracy", "accuracy"),
        table_claim("dia-f1", "f1", "F1"),
        Claim("dia-focal-beats-bce", "dia", "Focal loss outperforms BCE in F1 (MLP)",
              f"{best['f1'] - PAPER_TABLE1[('mlp', 'bce')]['f1']:+.2f}",
              PositiveEffect(),
              {"difference": ("dia", Fields(("paired_vs_mlp_focal", "mlp+bce"), "f1_diff", "f1_ci_low", "f1_ci_high",
                                            sign=-1))},
              section="chapter-dia", decimals=3, measured_as="F1, focal − BCE, leak-free CV:"),
        Claim("dia-external", "dia", "The CV scores reflect genuine generalization (AUC 0.97)",
              f"{best['roc_auc']:.2f}", WithinInterval(best["roc_auc"]),
              {"value": ("dia", ("external_test", "mlp+focal", "roc_auc"))}, section="chapter-dia", decimals=3,
              measured_as="external test set:"),
        Claim("dia-cnn-dice", "dia", "CNN with Dice loss collapses to the positive class "
              "(accuracy 0.50, precision 0.50, recall 1.00)",
              f"{collapse['accuracy']:.2f} / {collapse['precision']:.2f} / {collapse['recall']:.2f}",
              AllPositiveSignature({k: collapse[k] for k in ("accuracy", "precision", "recall")}),
              {"prevalence": prevalence}, section="chapter-data", decimals=3,
              measured_as="real prevalence"),
        Claim("dia-descriptors", "dia", "The dataset has 729 RDKit descriptors",
              f"{PAPER_FACTS['n_descriptors']}", Equals(PAPER_FACTS["n_descriptors"]),
              {"value": ("data", "dia.n_descriptors")}, section="chapter-data", decimals=0),
        Claim("dia-prevalence", "dia", "About 27 % of the drugs are positive",
              f"{PAPER_FACTS['positive_share']:.2f}", Equals(PAPER_FACTS["positive_share"], decimals=2),
              {"value": prevalence}, section="chapter-data", decimals=3),
    ]


def _acne_claims() -> list[Claim]:
    from lossbook.studies.acne import PAPER_FACTS, PAPER_TABLES

    a, b = PAPER_TABLES["table1"], PAPER_TABLES["table2"]
    papules = PAPER_TABLES["table3"]["Papules"]
    return [
        Claim("acne-accuracy-gain", "acne", "Weighted cross-entropy raises accuracy from 0.80 to 0.86",
              f"{b['accuracy'] - a['accuracy']:+.2f}", PositiveEffect(claimed=round(b["accuracy"] - a["accuracy"], 2)),
              {"difference": ("acne", "random.B_minus_A.accuracy")}, section="chapter-acne",
              decimals=3, measured_as="B − A, paired over repeated random splits:"),
        Claim("acne-macro-f1-gain", "acne", "Weighted cross-entropy raises macro F1 from 0.78 to 0.85",
              f"{b['macro_f1'] - a['macro_f1']:+.2f}", PositiveEffect(claimed=round(b["macro_f1"] - a["macro_f1"], 2)),
              {"difference": ("acne", "random.B_minus_A.macro_f1")}, section="chapter-acne",
              decimals=3, measured_as="B − A, paired over repeated random splits:"),
        Claim("acne-papules", "acne", "The largest gain is Papules F1, +0.10 (0.71 to 0.81)",
              f"{papules:+.2f}", PositiveEffect(claimed=papules),
              {"difference": ("acne", "random.B_minus_A.f1_Papules")}, section="chapter-acne",
              decimals=3, measured_as="B − A, paired over repeated random splits:"),
        Claim("acne-level", "acne", "The weighted model reaches 86 % accuracy",
              f"{b['accuracy']:.2f}", ArtifactOf(WithinInterval(b["accuracy"]), WithinInterval(b["accuracy"])),
              {"seed": ("acne", "random.B.accuracy"), "sound": ("acne", "group.B.accuracy")},
              section="chapter-acne", decimals=3, labels={"seed": "random split", "sound": "grouped split"}),
        Claim("acne-imbalance", "acne", "Blackheads outnumber Whiteheads about 5.6 to 1",
              f"{PAPER_FACTS['imbalance_ratio']:.1f}", Equals(PAPER_FACTS["imbalance_ratio"], decimals=1),
              {"value": ("data", "acne.per_class.Blackheads/acne.per_class.Whiteheads")},
              section="chapter-data", decimals=1, measured_as="in our copy of the data:"),
    ]


def _synthetic_claims() -> list[Claim]:
    from lossbook.studies.synthetic import TUTORIAL_REPORTED

    bce, focal = TUTORIAL_REPORTED["bce"], TUTORIAL_REPORTED["focal"]
    n_minority = bce["minority_found"] + bce["minority_missed"]
    return [
        Claim("syn-test-minority", "synthetic", "The tutorial's test split (random_state 42) holds "
              f"{n_minority} minority points", f"{n_minority}", Equals(n_minority),
              {"value": ("synthetic", "n_positive_test")}, section="chapter-synthetic", decimals=0),
        Claim("syn-counts", "synthetic", f"BCE finds {bce['minority_found']} of them and focal loss "
              f"{focal['minority_found']}", f"{bce['minority_found']} vs {focal['minority_found']}",
              AtLeast(1, "initialisation seeds give BCE <= 1 and focal >= 14 found"),
              {"value": ("synthetic", "tutorial_like_seeds")}, section="chapter-synthetic", decimals=0,
              measured_as="seeds giving the tutorial's outcome:"),
        Claim("syn-focal-better", "synthetic", "Focal loss detects the minority class that BCE misses "
              "(in general, not just for one seed)",
              f"+{focal['minority_found'] - bce['minority_found']} found",
              ArtifactOf(PositiveEffect(), PositiveEffect()),
              {"seed": ("synthetic", "paired_focal_minus_bce.minority_found"),
               "sound": ("synthetic", "paired_focal_minus_bce.roc_auc")},
              section="chapter-synthetic", decimals=3,
              labels={"seed": "extra minority points found at 0.5", "sound": "ROC-AUC difference"}),
    ]


def _forum_claims() -> list[Claim]:
    return [
        Claim("forum-runs", "forum", "On the posted CT task, focal loss is the better choice",
              "val. balanced accuracy 0.65 vs 0.50",
              Untestable("the CT patches and the two runs' logs are not public; the chapter re-asks the "
                         "question on a stand-in problem"), section="chapter-forum"),
        Claim("forum-lower-loss", "forum", "Focal loss has a consistently lower loss, a sign it is better",
              "val. loss 0.0002 vs 0.0091",
              Below(1.0, explanation="focal loss is smaller than BCE on the very same predictions, "
                                     "so a lower value says nothing about the model"),
              {"value": ("losses", Ratio(("comparability_table", "noisy ranker", "focal γ=2, α=0.25"),
                                         ("comparability_table", "noisy ranker", "BCE")))},
              section="chapter-losses", decimals=3, measured_as="focal / BCE on identical predictions:"),
        Claim("forum-balanced-accuracy", "forum", "Focal loss ends with the higher validation balanced "
              "accuracy (threshold 0.5), so it handles the imbalance better",
              "0.65 vs 0.50",
              PositiveEffect(),
              {"difference": ("forum", "comparisons.validation_bce_vs_focal_balanced.metrics.balanced_accuracy")},
              section="chapter-forum", decimals=3, measured_as="focal (γ=5, α=0.25) − BCE, stand-in:"),
        Claim("forum-better-model", "forum", "Focal loss (γ=5, class balancing) gives the better model "
              "than BCE at the same positive rate",
              "—",
              PositiveEffect(),
              {"difference": ("forum", "comparisons.test_bce_vs_focal_balanced.metrics.roc_auc")},
              section="chapter-forum", decimals=3, measured_as="test ROC-AUC, focal − BCE, stand-in:"),
    ]


#: One builder per seed document, in the order of the ledger.
CLAIM_BUILDERS = {"dia": _dia_claims, "acne": _acne_claims, "synthetic": _synthetic_claims, "forum": _forum_claims}


def seed_claims(seeds: Sequence[str] = tuple(CLAIM_BUILDERS)) -> list[Claim]:
    """The headline claims of the seed documents, with where the book measures each."""
    unknown = sorted(set(seeds) - set(CLAIM_BUILDERS))
    if unknown:
        raise ValueError(f"unknown seed(s) {unknown}; choose from {sorted(CLAIM_BUILDERS)}")
    return [claim for seed in seeds for claim in CLAIM_BUILDERS[seed]()]


# --------------------------------------------------------------------------- critiques

@dataclass(frozen=True)
class Critique:
    """A methodological problem found in the seeds, where its effect is measured, and the fix."""

    id: str
    title: str
    effect: str  # what the measured number means
    path: Any  # (chapter, path) or a list of them
    fix: str
    section: str | None = None
    decimals: int = 3


def chapters_needed(claims: Sequence[Claim] = (), critiques: Sequence[Critique] = ()) -> list[str]:
    """Every chapter whose results file a set of claims and critiques reads, sorted."""
    found = {c for claim in claims for c in claim.chapters}
    found |= {chapter for critique in critiques for chapter, _ in _alternatives(critique.path)}
    return sorted(found)


def measure_effect(critique: Critique, results: Mapping[str, Mapping | None]) -> tuple[str, Measure | None]:
    """``(status, measure)``: status is ``"measured"``, ``NOT_RUN`` or ``NOT_MEASURED``."""
    alternatives = _alternatives(critique.path)
    ran = False
    for chapter, path in alternatives:
        payload = results.get(chapter)
        if payload is None:
            continue
        ran = True
        try:
            raw = lookup(payload.get("results", {}), path)
        except KeyError:
            continue
        measure = to_measure(raw)
        if measure is None:
            raise ValueError(f"{chapter}.json: results.{_path_text(path)} "
                             f"is not a number or an estimate mapping: {raw!r}")
        return "measured", measure
    return (NOT_MEASURED if ran else NOT_RUN), None


CRITIQUES = (
    Critique("leakage", "Preprocessing fitted before splitting (leakage)",
             "mean CV ROC-AUC of MLP + focal with SMOTE and scaling fitted on all rows, minus fitted inside the folds",
             ("dia", Difference(("leaky", "mlp+focal", "roc_auc"), ("leak_free", "mlp+focal", "roc_auc"))),
             "Fit every data-dependent step inside the fold, as one Pipeline.", "chapter-dia"),
    Critique("balanced-test", "Balanced test folds",
             "accuracy of the all-positive classifier at the data's real prevalence (it is 0.5 on a 1:1 test set)",
             ("data", "dia.n_train_positive/dia.n_train"),
             "Never oversample before splitting; report the all-positive baseline beside every score.",
             "chapter-data"),
    Critique("single-split", "Single splits",
             "spread (max - min) of the weighted model's accuracy over repeated random 70/20/10 splits",
             ("acne", "random.B.accuracy_range"),
             "Repeat the split (or use repeated CV) and report an interval.", "chapter-acne"),
    Critique("near-duplicates", "Near-duplicate images across splits",
             "share of the export's test images whose near-duplicate group also has members in another split",
             ("data", "acne.share_in_crossing_group.test"),
             "Split by near-duplicate group.", "chapter-data"),
    Critique("threshold", "Threshold effects read as loss effects",
             "focal-minus-BCE balanced accuracy at threshold 0.5, over seeds and data draws "
             "(the ROC-AUC difference is in the ledger)",
             ("synthetic", "paired_focal_minus_bce.balanced_accuracy"),
             "Compare threshold-free metrics, or choose the threshold on training data for every loss.",
             "chapter-synthetic"),
    Critique("loss-values", "Loss values compared across losses",
             "ratio of focal loss (γ=2, α=0.25) to BCE on the same predictions",
             ("losses", Ratio(("comparability_table", "noisy ranker", "focal γ=2, α=0.25"),
                              ("comparability_table", "noisy ranker", "BCE"))),
             "Compare models with metrics, never with their training losses.", "chapter-losses"),
    Critique("label-noise", "Label noise in the test set",
             "share of the tutorial's minority test labels that make_classification flipped at random",
             ("synthetic", "n_flipped_positive_test/n_positive_test"),
             "Know how the labels were made; a perfect score may be impossible.", "chapter-synthetic"),
    Critique("intervals", "Missing intervals",
             "width of the 95 % interval of the Whiteheads F1 difference (B - A) over repeated splits",
             ("acne", "random.B_minus_A.f1_Whiteheads_width"),
             "Give every headline number an interval; compare models by paired differences.", "chapter-acne"),
)
