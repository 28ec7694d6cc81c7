"""``python -m lossbook study`` and ``python -m lossbook compare``: the book's protocol for your own data.

``study`` checks a table, runs ``notebooks/study.py`` on it with papermill and
writes an executed notebook, a standalone HTML report and a results JSON.
``compare`` judges two prediction files and exits with a code a CI pipeline can gate on.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["COMPARE_EXIT_CODES", "add_commands", "compare_main", "study_main"]

#: Exit codes of ``compare`` (documented in its --help and README).
COMPARE_EXIT_CODES = {"better": 0, "inconclusive": 1, "error": 2, "worse": 3}

STUDY_EPILOG = """\
output (in --output-dir): study.ipynb (the executed notebook), study.html (the report),
results/study.json (every number, with parameters, package versions and the data's sha256),
figures/study/*.png. Bad input (a label with other than two values, non-numeric or missing
feature values, fewer minority rows than folds, a single group) is refused with exit code 2
before anything is trained; a failure while running exits 1.

examples:
  python -m lossbook study data.csv --label outcome --profile quick
  python -m lossbook study data.parquet --label y --group patient --losses bce,focal --no-smote
  python -m lossbook study data.csv --label y --executor dask --scheduler tcp://10.0.0.5:8786
"""

COMPARE_EPILOG = """\
input files: one row per example with a 0/1 label column (y_true, label, target, y, ...), a
probability column (prob, y_prob, probability, score, ...) or a logit column (logit, logits)
and optionally a fold column (fold, fold_id, cv_fold); both files hold the same examples in the
same order. With folds, differences are tested per fold with the corrected resampled t-test;
without, with a stratified paired bootstrap.

exit codes (for CI gating on --metric):
  0  B is detectably better than A (the interval for B - A excludes 0 on B's side)
  1  no detectable difference
  3  B is detectably worse than A
  2  bad input or options (nothing compared)

example:
  python -m lossbook compare baseline.csv candidate.csv --metric pr_auc --json verdict.json && echo ship it
"""


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_commands(commands) -> None:
    """Add the ``study`` and ``compare`` subcommands to an argparse subparsers object."""
    from lossbook.core.compare import METRICS
    from lossbook.core.executor import EXECUTORS
    from lossbook.studies.tabular import (
        BASELINES,
        DEFAULTS,
        LOSSES,
        MODELS,
        PROFILES,
        THRESHOLD_METRICS,
    )

    study = commands.add_parser(
        "study", help="which loss is better on your table? (leak-free CV, report, verdicts)",
        description="Run the book's leak-free protocol on a table of numeric features and a binary label: "
                    "each loss trains the network(s) on the same repeated stratified (group) folds as the "
                    "baselines, and each is compared with BCE.",
        epilog=STUDY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    study.add_argument("data", type=Path, help="the table: .csv, .tsv (optionally compressed) or .parquet")
    study.add_argument("--label", required=True, help="column holding the two classes")
    study.add_argument("--group", default=None,
                       help="column of group ids (patients, scaffolds, near-duplicates) never split between "
                            "training and test rows (default: none)")
    study.add_argument("--positive", default=None,
                       help="label value of the positive class (default: 1/True for 0/1 or boolean labels, "
                            "else the rarer value)")
    study.add_argument("--drop-non-numeric", action="store_true",
                       help="drop non-numeric feature columns instead of refusing the table")
    study.add_argument("--losses", type=_names, default=None,
                       help=f"comma-separated losses, must include bce (default: {','.join(DEFAULTS['losses'])}; "
                            f"choices: {','.join(LOSSES)})")
    study.add_argument("--models", type=_names, default=None,
                       help=f"comma-separated networks; the first with bce is the reference "
                            f"(default: {','.join(DEFAULTS['models'])}; choices: {','.join(MODELS)})")
    study.add_argument("--baselines", default=None,
                       help=f"comma-separated baselines, or 'none' (default: {','.join(DEFAULTS['baselines'])}; "
                            f"lr: logistic regression, rf: random forest, hgb: gradient boosting; choices: "
                            f"{','.join(BASELINES)})")
    study.add_argument("--smote", action=argparse.BooleanOptionalAction, default=None,
                       help="SMOTE inside each training fold (default: on)")
    study.add_argument("--profile", choices=list(PROFILES), default="full",
                       help=f"full: {DEFAULTS['n_repeats']} repeats, up to {DEFAULTS['max_epochs']} epochs "
                            f"(patience {DEFAULTS['patience']}); quick: {PROFILES['quick']['n_repeats']} repeats, up to "
                            f"{PROFILES['quick']['max_epochs']} epochs (patience {PROFILES['quick']['patience']}) "
                            "(default: full)")
    study.add_argument("--folds", type=int, default=None, help=f"outer folds (default: {DEFAULTS['n_splits']})")
    study.add_argument("--repeats", type=int, default=None, help="repeats of the k-fold (default: from --profile)")
    study.add_argument("--threshold-metric", choices=THRESHOLD_METRICS, default=None,
                       help=f"what the threshold chosen on validation rows maximises (default: "
                            f"{DEFAULTS['threshold_metric']})")
    study.add_argument("--seed", type=int, default=None, help=f"seed of every split and network (default: {DEFAULTS['seed']})")
    study.add_argument("--output-dir", type=Path, default=None,
                       help="where the notebook, report and results go (default: ./study-<data file name>)")
    study.add_argument("--executor", choices=list(EXECUTORS), default="serial",
                       help="serial: jobs one after another here; dask: on a Dask cluster (default: serial). "
                            "Results do not depend on it")
    study.add_argument("--scheduler", default=None,
                       help="address of a running Dask scheduler (with --executor dask; default: start a "
                            "local cluster)")
    study.add_argument("--workers", type=int, default=2, help="workers of the local Dask cluster (default: 2)")
    study.set_defaults(handler=study_main)

    compare = commands.add_parser(
        "compare", help="is run B detectably better than run A? (two prediction files; exit code for CI)",
        description="Compare two runs' per-example predictions on the same examples: paired differences of "
                    "ROC-AUC, PR-AUC, Brier score and threshold metrics, with intervals and a verdict.",
        epilog=COMPARE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    compare.add_argument("a", type=Path, help="predictions of run A (the reference), CSV")
    compare.add_argument("b", type=Path, help="predictions of run B (the candidate), CSV")
    compare.add_argument("--names", type=_names, default=None, help="names of A and B, comma-separated "
                                                                     "(default: the file names)")
    compare.add_argument("--metric", choices=list(METRICS), default="roc_auc",
                         help="the metric the exit code gates on (default: roc_auc)")
    compare.add_argument("--threshold", type=float, default=0.5,
                         help="decision threshold of the threshold metrics (default: 0.5; choose it on "
                              "validation data, not on these predictions)")
    compare.add_argument("--label-column", default=None, help="label column (default: found by name)")
    compare.add_argument("--prob-column", default=None, help="probability or logit column (default: found by name)")
    compare.add_argument("--fold-column", default=None, help="fold id column (default: found by name, optional)")
    compare.add_argument("--logits", action="store_true", help="the score column holds logits (a sigmoid is applied)")
    compare.add_argument("--n-train", type=int, default=None,
                         help="training rows per fold, for the corrected t-test with folds (default: rows "
                              "outside the fold, assuming each example is predicted once)")
    compare.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples without folds (default: 2000)")
    compare.add_argument("--level", type=float, default=0.95, help="interval level (default: 0.95)")
    compare.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    compare.add_argument("--html", type=Path, default=None, help="also write a standalone HTML report here")
    compare.add_argument("--json", type=Path, default=None, help="also write the table and verdict as JSON here")
    compare.set_defaults(handler=compare_main)


# -- study ---------------------------------------------------------------------------


def study_parameters(args) -> dict:
    """The study's parameters from the command line: profile values, then the options given."""
    from lossbook.studies import tabular

    p = dict(tabular.PROFILES[args.profile])
    for option, name in (("losses", "losses"), ("models", "models"), ("smote", "smote"), ("folds", "n_splits"),
                         ("repeats", "n_repeats"), ("threshold_metric", "threshold_metric"), ("seed", "seed")):
        value = getattr(args, option)
        if value is not None:
            p[name] = value
    if args.baselines is not None:
        p["baselines"] = [] if args.baselines.strip().lower() == "none" else _names(args.baselines)
    try:
        return tabular.check_parameters(**p)
    except ValueError as error:
        # name the command-line option, not the notebook parameter
        text = str(error)
        for option, name in (("--folds", "n_splits"), ("--repeats", "n_repeats"), ("--seed", "seed"),
                             ("--losses", "losses"), ("--models", "models"), ("--baselines", "baselines")):
            if text.startswith(name + " "):
                text = option + text[len(name):]
        raise ValueError(text) from None


def study_main(args) -> int:
    """Check everything, run the report notebook, write the HTML. Returns an exit code."""
    from lossbook.core.data import DataError
    from lossbook.core.paths import repo_root
    from lossbook.publish.runner import Chapter, ChapterFailed, run_chapter
    from lossbook.studies import tabular

    try:
        if args.scheduler and args.executor != "dask":
            raise ValueError("--scheduler needs --executor dask")
        if args.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {args.workers}")
        p = study_parameters(args)
        table = tabular.load_table(args.data, label=args.label, group=args.group, positive=args.positive,
                                   drop_non_numeric=args.drop_non_numeric)
        tabular.check_protocol(table, p)
    except (DataError, ValueError) as error:
        print(f"lossbook study: error: {error}", file=sys.stderr)
        return 2
    output_dir = (args.output_dir or Path(f"study-{args.data.stem}")).resolve()
    notebook_parameters = {**p, "data_path": str(args.data.resolve()), "label": args.label, "group": args.group,
                           "positive": args.positive, "drop_non_numeric": args.drop_non_numeric,
                           "executor": args.executor, "scheduler": args.scheduler, "n_workers": args.workers}
    chapter = Chapter("study", repo_root() / "notebooks" / "study.py", {})
    print(f"study of {table.source}: {len(table.y)} rows, {int(table.y.sum())} positive; "
          f"{len(tabular.grid_jobs(p))} jobs ({args.profile} profile, executor {args.executor}) -> {output_dir}",
          flush=True)
    try:
        wall = run_chapter(chapter, args.profile, output_dir, extra_parameters=notebook_parameters)
    except ChapterFailed as error:
        print(f"lossbook study: FAILED: {error}", file=sys.stderr)
        return 1
    report = write_study_html(output_dir, table.source)
    print(f"done in {wall:.1f} s\n  notebook: {output_dir / 'study.ipynb'}\n  report:   {report}\n"
          f"  results:  {output_dir / 'results' / 'study.json'}")
    import json

    answer = json.loads((output_dir / "results" / "study.json").read_text(encoding="utf-8"))["results"]["answer"]
    print("\n" + answer)
    return 0


def write_study_html(output_dir: Path, source: str) -> Path:
    """``study.html`` beside the executed ``study.ipynb``."""
    import html

    import nbformat

    from lossbook import __version__
    from lossbook.publish.html import notebook_html

    notebook = nbformat.read(output_dir / "study.ipynb", as_version=4)
    footer = (f"Made by <code>python -m lossbook study</code> (lossbook {__version__}) from "
              f"<code>{html.escape(source)}</code>. Every number is in <code>results/study.json</code>; "
              "the executed notebook is <code>study.ipynb</code>.")
    target = output_dir / "study.html"
    target.write_text(notebook_html(notebook, title=f"Which loss is better on {source}?", footer=footer),
                      encoding="utf-8")
    return target


# -- compare -------------------------------------------------------------------------


def gate(comparison, metric: str) -> str:
    """"better", "worse" or "inconclusive": is B detectably better than A on ``metric``?"""
    winner = comparison.better(metric)
    if winner is None:
        return "inconclusive"
    return "better" if winner == comparison.names[1] else "worse"


def compare_main(args) -> int:
    """Read both files, print the table and verdict, write --html/--json. Returns the gate's exit code."""
    import pandas as pd

    from lossbook.core.compare import (
        METRIC_LABELS,
        compare_predictions,
        read_predictions,
    )
    from lossbook.core.io import write_json_atomic

    try:
        names = tuple(args.names or (args.a.stem, args.b.stem))
        if len(names) != 2 or names[0] == names[1]:
            raise ValueError(f"--names needs two different names, got {list(names)}")
        kw = {"label_column": args.label_column, "prob_column": args.prob_column, "fold_column": args.fold_column,
              "from_logits": True if args.logits else None}
        a, b = read_predictions(args.a, **kw), read_predictions(args.b, **kw)
        options = {"names": names, "threshold": args.threshold, "level": args.level}
        if a.fold is not None:
            n_train = args.n_train
            if n_train is None:
                n_train = int(round(len(a) - len(a) / len(pd.unique(a.fold))))
            options["n_train"] = n_train
        else:
            if args.n_train is not None:
                raise ValueError("--n-train is only used with a fold column")
            options.update(n_boot=args.n_boot, seed=args.seed)
        result = compare_predictions(a, b, **options)
    except (ValueError, FileNotFoundError) as error:
        print(f"lossbook compare: error: {error}", file=sys.stderr)
        return COMPARE_EXIT_CODES["error"]
    decision = gate(result, args.metric)
    table = result.table.copy()
    table["metric"] = table["metric"].map(METRIC_LABELS)
    shown = table[["metric", "value_a", "value_b", "diff", "ci_low", "ci_high", "p_value"]].rename(
        columns={"value_a": names[0], "value_b": names[1], "diff": "B - A"})
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    print(result.verdict)
    code = COMPARE_EXIT_CODES[decision]
    print(f"\ngate on {METRIC_LABELS[args.metric]}: B ({names[1]}) is "
          + {"better": "detectably better than", "worse": "detectably worse than",
             "inconclusive": "not detectably different from"}[decision] + f" A ({names[0]}); exit code {code}")
    if args.json:
        write_json_atomic(args.json, {**result.to_dict(), "verdict": result.verdict,
                                      "gate": {"metric": args.metric, "decision": decision, "exit_code": code}})
    if args.html:
        write_compare_html(args.html, result, shown, decision, args.metric)
    return code


def write_compare_html(path: Path, result, shown, decision: str, metric: str) -> Path:
    """The comparison as a standalone page: verdict, table, figure."""
    import html

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lossbook.core import plots
    from lossbook.core.compare import METRIC_LABELS
    from lossbook.publish.html import figure_html, page

    plots.set_style()
    fig = result.figure()
    body = (f"<h1>{html.escape(result.names[1])} (B) vs {html.escape(result.names[0])} (A)</h1>\n"
            f'<p class="answer">Gate on {METRIC_LABELS[metric]}: <strong>{decision}</strong>.</p>\n'
            f"<pre>{html.escape(result.verdict)}</pre>\n"
            + shown.to_html(index=False, float_format=lambda v: f"{v:.4f}", border=0)
            + figure_html(fig, alt="ROC, PR, reliability and paired differences")
            + "<footer>Made by <code>python -m lossbook compare</code>.</footer>")
    plt.close(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(f"{result.names[1]} vs {result.names[0]}", body), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - python -m lossbook is the entry point
    parser = argparse.ArgumentParser(prog="python -m lossbook")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
