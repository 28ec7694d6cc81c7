"""The claims ledger's engine: read measurements from results files, apply rules, give verdicts.

The content (what each source document claims, where the book measures it and
which rule judges it) is data in :mod:`lossbook.studies.claims`. This module
turns a :class:`~lossbook.studies.claims.Claim` into an :class:`Assessment`:
it looks up each measurement in the chapters' results files, builds the
claim's rule from :data:`RULES` and applies it. It never looks at anything but
the results files, so a verdict changes only when a chapter's numbers change.

Verdicts
--------
``reproduced``
    The book measured the claimed value or effect: for an effect, the interval
    excludes zero and holds the claimed size.
``refuted``
    The interval excludes the claimed value or size (for an effect this may
    happen while the direction holds; the detail then says both).
``inconclusive``
    The interval holds both zero and the claimed size: the study could not have
    told. The detail gives the minimum detectable effect at 80 % power.
``atypical``
    An existence claim ("a seed gives this outcome") whose outcome does occur,
    but in fewer than half the runs (a frequency with a Wilson interval).
``explained by an artifact of the protocol``
    The claimed number occurs only under a flaw of the protocol (leakage, a
    balanced test set, comparing values of different objectives) and goes away
    under a sound one.
``cannot be tested here``
    The data or setup needed are not available (the reason is stated).
``not yet run`` / ``not measured``
    No results file for the chapter / no entry at the claim's path.

Measurements
------------
Every value read is a plain number or an :class:`~lossbook.core.estimate.Estimate`
as written by ``Estimate.to_dict()``; anything else raises ``ValueError`` naming
the chapter and path. Paths are described in :mod:`lossbook.studies.claims`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lossbook.core.estimate import FIELDS, Estimate
from lossbook.core.inference import minimum_detectable_effect
from lossbook.studies.claims import (
    CLAIM_BUILDERS,
    CRITIQUES,
    SOURCES,
    Claim,
    Critique,
    Difference,
    Negated,
    Ratio,
    RuleSpec,
    claims,
)

__all__ = [
    "VERDICTS", "REPRODUCED", "REFUTED", "INCONCLUSIVE", "ATYPICAL", "ARTIFACT", "UNTESTABLE", "NOT_RUN",
    "NOT_MEASURED", "to_estimate", "lookup", "standard_error", "RULES", "build_rule", "Decision", "Assessment",
    "assess", "ledger", "verdict_counts", "measure_effect", "critique_texts", "chapters_needed", "source_claims",
    "Claim", "Critique", "CRITIQUES", "SOURCES", "CLAIM_BUILDERS", "glue_ledger",
]

REPRODUCED = "reproduced"
REFUTED = "refuted"
INCONCLUSIVE = "inconclusive"
ATYPICAL = "atypical"
ARTIFACT = "explained by an artifact of the protocol"
UNTESTABLE = "cannot be tested here"
NOT_RUN = "not yet run"
NOT_MEASURED = "not measured"
VERDICTS = (REPRODUCED, REFUTED, INCONCLUSIVE, ATYPICAL, ARTIFACT, UNTESTABLE, NOT_RUN, NOT_MEASURED)


def _is_finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def to_estimate(value: Any) -> Estimate | None:
    """An :class:`Estimate` from a plain number or an ``Estimate.to_dict()`` mapping; None for anything else."""
    if _is_finite(value):
        return Estimate(float(value))
    if isinstance(value, Mapping) and "estimate" in value and set(value) <= set(FIELDS):
        if not _is_finite(value["estimate"]):
            return None
        lo, hi = value.get("ci_low"), value.get("ci_high")
        if not (_is_finite(lo) and _is_finite(hi)):
            lo = hi = None
        return Estimate(float(value["estimate"]), lo, hi, value.get("n"), value.get("method") or "none")
    return None


def _path_text(path) -> str:
    if isinstance(path, Ratio):
        return f"{_path_text(path.numerator)} / {_path_text(path.denominator)}"
    if isinstance(path, Difference):
        return f"{_path_text(path.a)} - {_path_text(path.b)}"
    if isinstance(path, Negated):
        return f"-({_path_text(path.path)})"
    return path if isinstance(path, str) else ".".join(map(str, path))


def _number(payload, path):
    value = lookup(payload, path)
    if isinstance(value, Mapping):
        value = to_estimate(value)
        return None if value is None else value.estimate
    return value if _is_finite(value) else None


def lookup(payload: Mapping, path) -> Any:
    """The value at ``path`` in ``payload["results"]``; KeyError if absent.

    ``path`` is a dotted string (``"a.b.0"``; list items by integer index), a
    tuple of keys, or a path type of :mod:`lossbook.studies.claims`;
    ``"a.b/c.d"`` is shorthand for ``Ratio("a.b", "c.d")``. Derived paths
    return an :class:`Estimate`.
    """
    if isinstance(path, str) and "/" in path:
        path = Ratio(*path.split("/", 1))
    if isinstance(path, (Ratio, Difference)):
        first, second = (path.numerator, path.denominator) if isinstance(path, Ratio) else (path.a, path.b)
        x, y = _number(payload, first), _number(payload, second)
        if x is None or y is None or (isinstance(path, Ratio) and y == 0):
            raise ValueError(f"{_path_text(path)}: needs two numbers"
                             f"{' with a non-zero denominator' if isinstance(path, Ratio) else ''}, got {x!r} and {y!r}")
        return Estimate(x / y if isinstance(path, Ratio) else x - y)
    if isinstance(path, Negated):
        inner = lookup(payload, path.path)
        e = inner if isinstance(inner, Estimate) else to_estimate(inner)
        if e is None:
            raise ValueError(f"{_path_text(path.path)}: needs a number or an Estimate to negate, got {inner!r}")
        lo, hi = (None, None) if not e.has_interval else (-e.ci_high, -e.ci_low)
        return Estimate(-e.estimate, lo, hi, e.n, e.method)
    parts = path.split(".") if isinstance(path, str) else [str(p) for p in path]
    node: Any = payload.get("results", {})
    for part in parts:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(_path_text(path))
    return node


def standard_error(estimate: Estimate, level: float = 0.95) -> tuple[float, int | None]:
    """``(se, df)`` implied by a 95 % interval: half its width over the t (or normal) quantile.

    For t-type intervals (``method`` ``t`` or ``corrected_t``) ``df = n - 1``;
    otherwise the normal quantile is used (a percentile bootstrap interval is
    read as if it were normal, which is what a power statement needs).
    """
    from scipy import stats

    if not estimate.has_interval:
        raise ValueError("an estimate without an interval has no standard error")
    df = estimate.n - 1 if estimate.method in ("t", "corrected_t") and estimate.n and estimate.n > 1 else None
    q = stats.t.ppf(0.5 + level / 2, df) if df else stats.norm.ppf(0.5 + level / 2)
    return (estimate.ci_high - estimate.ci_low) / (2 * q), df


def _mde(estimate: Estimate) -> float:
    se, df = standard_error(estimate)
    return minimum_detectable_effect(se, df=df)


# --------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class Decision:
    verdict: str
    detail: str
    extras: Mapping[str, float] = field(default_factory=dict)  # e.g. the minimum detectable effect


class Rule:
    """Turns the measurements of a claim (name -> Estimate) into a :class:`Decision`."""

    needs: tuple[str, ...] = ("value",)

    def decide(self, measures: Mapping[str, Estimate]) -> Decision:  # pragma: no cover - interface
        raise NotImplementedError


def _slack(decimals: int) -> float:
    # a value printed with d decimals stands for anything within half a unit of its last digit
    return 0.5 * 10 ** -decimals + 1e-12


@dataclass(frozen=True)
class WithinInterval(Rule):
    """A claimed value: reproduced when it lies in the measured interval (widened by its rounding), else refuted.

    Without an interval the estimate itself must round to the claimed value.
    """

    reported: float
    decimals: int = 2
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures):
        m, s, d = measures["value"], _slack(self.decimals), self.decimals
        if m.has_interval:
            inside = m.ci_low - s <= self.reported <= m.ci_high + s
            where = f"{self.reported:.{d}f} {'inside' if inside else 'outside'} [{m.ci_low:.{d + 1}f}, {m.ci_high:.{d + 1}f}]"
        else:
            inside = abs(m.estimate - self.reported) <= s
            where = f"{self.reported:.{d}f} vs measured {m.estimate:.{d + 1}f} (no interval)"
        return Decision(REPRODUCED if inside else REFUTED, where)


@dataclass(frozen=True)
class Equals(Rule):
    """A claimed fact (a count, a share): reproduced when the measurement equals it after rounding, else refuted."""

    reported: float
    decimals: int = 0
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures):
        m = measures["value"]
        same = round(m.estimate, self.decimals) == round(self.reported, self.decimals)
        return Decision(REPRODUCED if same else REFUTED,
                        f"reported {self.reported:.{self.decimals}f}, measured {m.estimate:.{self.decimals}f}")


@dataclass(frozen=True)
class Effect(Rule):
    """A claimed effect of size ``claimed`` (signed; its sign is the claimed direction), judged three ways.

    * reproduced: the interval excludes zero and holds the claimed size;
    * refuted: the interval excludes the claimed size (the detail says whether
      the direction still holds);
    * inconclusive: the interval holds both zero and the claimed size.

    When the interval holds zero, the detail gives the minimum detectable
    effect at 80 % power (:func:`~lossbook.core.inference.minimum_detectable_effect`).
    ``decimals`` is the claimed size's printed precision (its rounding widens the interval).
    """

    claimed: float
    decimals: int = 2
    needs: tuple[str, ...] = ("difference",)

    def __post_init__(self):
        if not _is_finite(self.claimed) or self.claimed == 0:
            raise ValueError(f"an effect claim needs a non-zero claimed size, got {self.claimed!r}")

    def decide(self, measures):
        d = measures["difference"]
        c, s = self.claimed, _slack(self.decimals)
        size = f"claimed {c:+.{self.decimals}f}"
        if not d.has_interval:
            return Decision(INCONCLUSIVE, f"measured {d.estimate:+.3f} without an interval: an effect cannot be judged")
        holds_size = d.ci_low - s <= c <= d.ci_high + s
        direction = (d.ci_low > 0) if c > 0 else (d.ci_high < 0)
        reversed_ = (d.ci_high < 0) if c > 0 else (d.ci_low > 0)
        span = d.format(3)
        extras = {}
        if not (direction or reversed_):
            extras["mde"] = _mde(d)
        if holds_size and direction:
            return Decision(REPRODUCED, f"{span} excludes zero and holds the {size}")
        if not holds_size:
            if direction:
                why = f"the direction holds ({span} excludes zero) but the {size} lies outside the interval"
            elif reversed_:
                why = f"reversed: {span} lies on the other side of zero from the {size}"
            else:
                why = (f"{span} holds zero and excludes the {size}; effects smaller than "
                       f"{extras['mde']:.3f} could not have been detected (80 % power)")
            return Decision(REFUTED, why, extras)
        return Decision(INCONCLUSIVE, f"{span} holds both zero and the {size}; the minimum detectable effect at "
                                      f"80 % power is {extras['mde']:.3f}", extras)


@dataclass(frozen=True)
class Frequency(Rule):
    """An existence claim ("a run gives this outcome"), judged by how often the outcome occurs.

    The measurement is a proportion with its Wilson interval (method ``wilson``,
    ``n`` runs). Reproduced (typical) when the interval lies above one half;
    atypical when the outcome occurs but the interval lies below one half;
    refuted when it never occurs; inconclusive otherwise.
    """

    what: str = ""
    typical: float = 0.5
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures):
        m = measures["value"]
        if not m.has_interval or m.n is None:
            raise ValueError("a frequency claim needs a proportion with its interval and n (a Wilson Estimate)")
        k = round(m.estimate * m.n)
        text = f"{k} of {m.n} {self.what}: {m.format(3)}".strip()
        if k == 0:
            return Decision(REFUTED, f"{text}; the outcome never occurred")
        if m.ci_low > self.typical:
            return Decision(REPRODUCED, f"{text}; the outcome is typical")
        if m.ci_high < self.typical:
            return Decision(ATYPICAL, f"{text}; the outcome occurs, but in a minority of runs")
        return Decision(INCONCLUSIVE, f"{text}; the interval holds {self.typical:g}")


@dataclass(frozen=True)
class ArtifactOf(Rule):
    """A claim that holds under the source's protocol and is re-checked under a sound one.

    Reproduced when both rules reproduce it; an artifact when only the source's
    protocol reproduces it and the sound one refutes it; refuted when the
    source's own protocol refutes it; inconclusive otherwise.
    """

    source_rule: Rule
    sound_rule: Rule
    needs: tuple[str, ...] = ("source", "sound")

    def decide(self, measures):
        under_source = self.source_rule.decide({self.source_rule.needs[0]: measures["source"]})
        under_sound = self.sound_rule.decide({self.sound_rule.needs[0]: measures["sound"]})
        detail = f"source's protocol: {under_source.detail}; sound protocol: {under_sound.detail}"
        if under_source.verdict == REFUTED:
            return Decision(REFUTED, detail)
        if under_source.verdict == REPRODUCED and under_sound.verdict == REPRODUCED:
            return Decision(REPRODUCED, detail)
        if under_source.verdict == REPRODUCED and under_sound.verdict == REFUTED:
            return Decision(ARTIFACT, detail)
        return Decision(INCONCLUSIVE, detail)


@dataclass(frozen=True)
class AllPositiveSignature(Rule):
    """Reported scores that are exactly those of "call everything positive" on a *balanced* test set.

    The all-positive classifier scores accuracy = precision = prevalence and
    recall = 1. If the reported scores match it at prevalence 0.5 but the data's
    real prevalence (measurement ``"prevalence"``) is not 0.5, the test folds
    must have been balanced: an artifact of the protocol.
    """

    reported: Mapping[str, float] = field(default_factory=dict)
    decimals: int = 2
    needs: tuple[str, ...] = ("prevalence",)

    def decide(self, measures):
        prevalence = measures["prevalence"].estimate
        slack = _slack(self.decimals)

        def matches(p):
            expected = {"accuracy": p, "precision": p, "recall": 1.0}
            return all(abs(self.reported[k] - v) <= slack for k, v in expected.items() if k in self.reported)

        if not matches(0.5):
            return Decision(REFUTED, "the reported scores are not those of an all-positive classifier")
        if matches(prevalence):
            return Decision(REPRODUCED, f"all-positive scores at the data's own prevalence {prevalence:.3f}")
        return Decision(ARTIFACT, f"all-positive scores on a 1:1 test set; the data's prevalence is {prevalence:.3f}, "
                                  f"where the same classifier scores accuracy = precision = {prevalence:.2f}")


@dataclass(frozen=True)
class Below(Rule):
    """``verdict_below`` when the measurement lies below ``limit`` (its whole interval, if any), else ``verdict_otherwise``.

    For claims whose evidence is a property of the method rather than a re-run:
    "focal loss is lower, so it is better" is explained by the loss's scale when
    focal loss is below BCE on identical predictions (ratio < 1).
    """

    limit: float = 1.0
    verdict_below: str = ARTIFACT
    verdict_otherwise: str = INCONCLUSIVE
    explanation: str = ""
    needs: tuple[str, ...] = ("value",)

    def __post_init__(self):
        for v in (self.verdict_below, self.verdict_otherwise):
            if v not in VERDICTS:
                raise ValueError(f"verdict must be one of {VERDICTS}, got {v!r}")

    def decide(self, measures):
        m = measures["value"]
        below = m.ci_high < self.limit if m.has_interval else m.estimate < self.limit
        detail = f"measured {m.format(3)} is {'below' if below else 'not below'} {self.limit:g}"
        if below and self.explanation:
            detail += f": {self.explanation}"
        return Decision(self.verdict_below if below else self.verdict_otherwise, detail)


@dataclass(frozen=True)
class ScaleDiffers(Rule):
    """Two numbers compared although they are on different scales: an artifact when the measured
    departure from ``reference`` (a ratio's 1, a difference's 0) is clear (its interval excludes the
    reference, or without an interval it differs by more than ``tolerance``); inconclusive otherwise."""

    reference: float = 1.0
    tolerance: float = 0.01
    explanation: str = ""
    needs: tuple[str, ...] = ("value",)

    def decide(self, measures):
        m = measures["value"]
        differs = m.excludes(self.reference) if m.has_interval else abs(m.estimate - self.reference) > self.tolerance
        detail = f"measured {m.format(3)}, {'not ' if not differs else ''}clearly away from {self.reference:g}"
        if differs and self.explanation:
            detail += f": {self.explanation}"
        return Decision(ARTIFACT if differs else INCONCLUSIVE, detail)


@dataclass(frozen=True)
class Untestable(Rule):
    """The claim cannot be checked with what this book has; ``reason`` says why.

    Measurements given in the claim's paths (e.g. ``"context"``) are shown beside the verdict, not judged.
    """

    reason: str = ""
    needs: tuple[str, ...] = ()

    def decide(self, measures):
        return Decision(UNTESTABLE, self.reason)


#: Rule names usable in :func:`lossbook.studies.claims.rule`.
RULES = {
    "within": WithinInterval, "equals": Equals, "effect": Effect, "frequency": Frequency,
    "artifact_of": ArtifactOf, "all_positive_signature": AllPositiveSignature, "below": Below,
    "scale_differs": ScaleDiffers, "untestable": Untestable,
}


def build_rule(spec: RuleSpec) -> Rule:
    """The :class:`Rule` a :class:`~lossbook.studies.claims.RuleSpec` names (nested specs built too)."""
    if isinstance(spec, Rule):
        return spec
    if not isinstance(spec, RuleSpec) or spec.name not in RULES:
        raise ValueError(f"unknown rule {getattr(spec, 'name', spec)!r}; choose from {sorted(RULES)}")
    params = {k: build_rule(v) if isinstance(v, RuleSpec) else v for k, v in spec.params.items()}
    try:
        return RULES[spec.name](**params)
    except TypeError as err:
        raise ValueError(f"rule {spec.name!r}: {err}") from None


# --------------------------------------------------------------------------- assessing claims

@dataclass(frozen=True)
class Assessment:
    claim: Claim
    verdict: str
    detail: str
    measures: Mapping[str, Estimate]
    extras: Mapping[str, float] = field(default_factory=dict)
    evidence: Mapping[str, str] = field(default_factory=dict)  # label -> text, shown beside the verdict, not judged

    def value_text(self) -> str:
        """The measurement(s) alone, without the ``measured_as`` label (for glued prose)."""
        if not self.measures:
            return self.verdict
        if len(self.measures) == 1:
            return next(iter(self.measures.values())).format(self.claim.decimals)
        return "; ".join(f"{self.claim.labels.get(k, k)}: {m.format(self.claim.decimals)}"
                         for k, m in self.measures.items())

    def measured_text(self) -> str:
        if not self.measures:
            text = "—"
        elif len(self.measures) == 1:
            text = f"{self.claim.measured_as} {self.value_text()}".strip()
        else:
            text = self.value_text()
        return "; ".join([text, *(f"{label}: {words}" for label, words in self.evidence.items())])


def _evidence(claim: Claim, results: Mapping[str, Mapping | None]) -> dict[str, str]:
    """The claim's evidence lines found in the results files (``{label: text}``); missing ones are left out."""
    out = {}
    for label, (chapter, path) in claim.evidence.items():
        payload = results.get(chapter)
        try:
            value = None if payload is None else lookup(payload, path)
        except KeyError:
            continue
        if isinstance(value, str):
            out[label] = value
        elif value is not None and to_estimate(value) is not None:
            out[label] = to_estimate(value).format(claim.decimals)
    return out


def _measure(results: Mapping[str, Mapping | None], chapter: str, path) -> Estimate | str:
    """The Estimate at ``(chapter, path)``, or NOT_RUN / NOT_MEASURED."""
    payload = results.get(chapter)
    if payload is None:
        return NOT_RUN
    try:
        raw = lookup(payload, path)
    except KeyError:
        return NOT_MEASURED
    found = raw if isinstance(raw, Estimate) else to_estimate(raw)
    if found is None:
        raise ValueError(f"{chapter}.json: results.{_path_text(path)} is not a number or an Estimate "
                         f"(estimate, ci_low, ci_high, n, method): {raw!r}")
    return found


def assess(claim: Claim, results: Mapping[str, Mapping | None]) -> Assessment:
    """Judge one claim from the loaded results files (``{chapter: payload or None}``).

    A missing results file gives ``not yet run``; a results file without the
    claim's path gives ``not measured``; a value that is neither a number nor an
    Estimate raises ``ValueError`` naming the chapter and path.
    """
    rule = build_rule(claim.rule)
    missing = set(rule.needs) - set(claim.paths)
    if missing:
        raise ValueError(f"claim {claim.id}: no path for measurement(s) {sorted(missing)}")
    measures = {}
    for name, (chapter, path) in claim.paths.items():
        found = _measure(results, chapter, path)
        if isinstance(found, str):
            if name not in rule.needs:
                continue  # context only
            if found == NOT_RUN:
                return Assessment(claim, NOT_RUN, f"no results file for {chapter}", {})
            return Assessment(claim, NOT_MEASURED, f"results file has no {chapter}:{_path_text(path)}", {})
        measures[name] = found
    decision = rule.decide(measures)
    return Assessment(claim, decision.verdict, decision.detail, measures, dict(decision.extras),
                      _evidence(claim, results))


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


def verdict_colors() -> dict[str, str]:
    """One colour per verdict (from the book's palette), for every chart of verdicts."""
    from lossbook.core import plots  # matplotlib: loaded only by the pages that draw

    return {REPRODUCED: plots.PALETTE[2], REFUTED: plots.PALETTE[4], INCONCLUSIVE: plots.PALETTE[1],
            ATYPICAL: plots.PALETTE[3], ARTIFACT: plots.PALETTE[0], UNTESTABLE: plots.NEUTRAL,
            NOT_RUN: plots.shades(plots.NEUTRAL, 3, lightest=0.8)[0], NOT_MEASURED: plots.PALETTE[7]}


def counts_sentence(counts: Mapping[str, int]) -> str:
    """``verdict_counts`` as one sentence naming only the verdicts that occur:
    "Of 12 claims, the ledger finds 3 reproduced, 5 refuted and 4 inconclusive." (a verdict counted zero
    times is left out, so no "0 wait for a chapter" reaches the page)."""
    total = sum(counts.values())
    words = {UNTESTABLE: "that cannot be tested here", NOT_RUN: "that wait for a chapter not yet run"}
    parts = [f"{n} {words.get(v, v)}" for v, n in counts.items() if n]
    if not parts:
        return f"Of {total} claims, none has a verdict yet."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Of {total} claim{'s' if total != 1 else ''}, the ledger finds {listed}."


def source_claims(sources: Sequence[str] = tuple(CLAIM_BUILDERS)) -> list[Claim]:
    """The headline claims of the given source documents (see :func:`lossbook.studies.claims.claims`)."""
    return claims(sources)


# --------------------------------------------------------------------------- critiques

def chapters_needed(claims: Sequence[Claim] = (), critiques: Sequence[Critique] = ()) -> list[str]:
    """Every chapter whose results file a set of claims and critiques reads, sorted."""
    found = {c for claim in claims for c in claim.chapters}
    for critique in critiques:
        specs = [critique.path] + [p for spec in critique.also.values() for p in (spec if isinstance(spec, list) else [spec])]
        found |= {chapter for chapter, _ in specs}
    return sorted(found)


def measure_effect(critique: Critique, results: Mapping[str, Mapping | None]) -> tuple[str, Estimate | None]:
    """``(status, estimate)`` of a critique's main measurement: status ``"measured"``, NOT_RUN or NOT_MEASURED."""
    found = _measure(results, *critique.path)
    return (found, None) if isinstance(found, str) else ("measured", found)


def critique_texts(critique: Critique, results: Mapping[str, Mapping | None]) -> dict:
    """``{"status", "text"}`` of a critique: its main measurement, then each ``also`` measurement by label."""
    status, main = measure_effect(critique, results)
    text = main.format(critique.decimals) if main else status
    parts = []
    for label, spec in critique.also.items():
        found = [_measure(results, *p) for p in (spec if isinstance(spec, list) else [spec])]
        missing = [f for f in found if isinstance(f, str)]
        values = [f"{f.estimate:.{critique.decimals}f}" for f in found if not isinstance(f, str)]
        shown = missing[0] if missing else (f"[{', '.join(values)}]" if len(values) > 1 else found[0].format(critique.decimals))
        parts.append(f"{label} {shown}")
    if parts and main is not None:
        text += " (" + "; ".join(parts) + ")"
    return {"status": status, "text": text}


def glue_ledger(assessments, results) -> dict[str, dict]:
    """Glue (:mod:`lossbook.publish.glue`) every number the book's text quotes from the claims ledger;
    return each critique's measured effect (``{critique id: {"status", "text"}}``).

    Names: ``ledger_n_claims``, ``ledger_counts_sentence``, ``ledger_n_<verdict>`` (words joined by
    ``_``), per claim ``claim_<id>_verdict``, ``_measured`` and ``_statement``, and per critique
    ``crit_<id>_effect`` (ids with ``_`` for ``-``).
    """
    import re

    from lossbook.publish.glue import glue_number

    counts = verdict_counts(assessments)
    glue_number("ledger_n_claims", len(assessments))
    glue_number("ledger_counts_sentence", counts_sentence(counts))
    for verdict, n in counts.items():
        glue_number(f"ledger_n_{re.sub(r'[^a-z]+', '_', verdict).strip('_')}", n)
    for a in assessments:
        key = a.claim.id.replace("-", "_")
        glue_number(f"claim_{key}_verdict", a.verdict)
        glue_number(f"claim_{key}_measured", a.value_text())
        glue_number(f"claim_{key}_statement", a.claim.statement)  # the front page's summary table
    effects = {c.id: critique_texts(c, results) for c in CRITIQUES}
    for critique_id, effect in effects.items():
        glue_number(f"crit_{critique_id.replace('-', '_')}_effect", effect["text"])
    return effects
