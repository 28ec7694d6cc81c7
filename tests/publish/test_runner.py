"""The runner: chapter discovery, parameters, failures, and byte-identical re-runs."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lossbook.publish import runner

HEADER = "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n#     name: python3\n# ---\n\n"


def _project(root: Path, chapters: dict[str, str], profiles: str) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "_config.yml").write_text("title: test\n")
    for name, body in chapters.items():
        (root / "notebooks" / f"{name}.py").write_text(HEADER + textwrap.dedent(body))
    (root / "notebooks" / "profiles.yml").write_text(textwrap.dedent(profiles))
    return root


TINY = """
# %% tags=["parameters"]
n = 3

# %%
from lossbook.publish.results import save_results
save_results("tiny", {"total": sum(range(n))}, parameters={"n": n})
print("total", sum(range(n)))
"""

BOOM = """
# %% tags=["parameters"]
n = 1

# %%
raise ValueError(f"boom with n={n}")
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = _project(tmp_path / "repo", {"tiny": TINY, "boom": BOOM},
                    "tiny:\n  full: {}\n  quick: {n: 5}\nboom:\n  full: {}\n")
    monkeypatch.setenv("LOSSBOOK_ROOT", str(root))
    monkeypatch.delenv("LOSSBOOK_OUTPUT_DIR", raising=False)
    return root


def test_chapters_come_in_profiles_yml_order(project):
    assert list(runner.load_chapters()) == ["tiny", "boom"]


def test_quick_profile_parameters_reach_the_notebook_and_wall_time_is_recorded(project):
    assert runner.run(["tiny"], "quick") == 0
    out = project / runner.QUICK_OUTPUTS
    assert json.loads((out / "results" / "tiny.json").read_text())["results"] == {"total": 10}
    timing = json.loads((out / "results" / "tiny.timing.json").read_text())
    assert set(timing) == {"quick"} and timing["quick"]["wall_time_s"] > 0
    slowest = timing["quick"]["slowest_cells"]  # where the time went, slowest first
    assert slowest and [c["seconds"] for c in slowest] == sorted((c["seconds"] for c in slowest), reverse=True)
    executed = json.loads((out / "tiny.ipynb").read_text())
    assert "start_time" not in executed["metadata"]["papermill"]  # volatile metadata stripped
    assert [c["id"] for c in executed["cells"]] == [f"cell-{i}" for i in range(len(executed["cells"]))]
    cells = {c["id"]: c for c in executed["cells"]}
    for entry in slowest:  # each names a code cell of the executed notebook by id and first line
        cell = cells[entry["cell"]]
        assert cell["cell_type"] == "code" and "".join(cell["source"]).strip().startswith(entry["first_line"])
    published = project / "book"  # quick never touches the published book: it writes book/quick/ only
    assert sorted(p.relative_to(published).parts[0] for p in published.iterdir()) == ["quick"]


def test_failing_chapter_reports_the_cell_error_and_leaves_no_notebook(project, capsys):
    assert runner.run(["boom"], "full") == 1
    err = capsys.readouterr().err
    assert "chapter 'boom' (full) failed" in err and "ValueError: boom with n=1" in err
    book = project / "book"
    assert not (book / "boom.ipynb").exists()
    assert not [p for p in book.iterdir() if p.suffix in {".ipynb", ".tmp"}]


@pytest.mark.parametrize("args", [(["nope"], "full"), (["tiny"], "fast")])
def test_unknown_chapter_or_profile_is_refused_before_running(project, capsys, args):
    assert runner.run(*args) == 2
    assert "unknown" in capsys.readouterr().err
    assert not (project / "book").exists()


def test_profiles_yml_with_unknown_profile_is_an_error(tmp_path, monkeypatch):
    root = _project(tmp_path / "repo", {"tiny": TINY}, "tiny:\n  fast: {}\n")
    monkeypatch.setenv("LOSSBOOK_ROOT", str(root))
    with pytest.raises(ValueError, match=r"unknown profile\(s\) \['fast'\]"):
        runner.load_chapters()


def test_rerunning_the_data_chapter_reproduces_its_results_byte_for_byte(data_root, tmp_path, monkeypatch):
    """The published results file is exactly what the runner writes today."""
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("LOSSBOOK_ROOT", str(repo))
    chapter = runner.load_chapters()["data"]
    runner.run_chapter(chapter, "full", tmp_path, progress=False)
    fresh = (tmp_path / "results" / "data.json").read_bytes()
    assert fresh == (repo / "book" / "results" / "data.json").read_bytes()


def test_misspelled_parameter_is_refused_naming_the_allowed_ones(project, capsys):
    assert runner.run(["tiny"], "full", parameters={"nn": 4}) == 2
    assert "has no parameter(s) ['nn']; its parameters are ['n']" in capsys.readouterr().err
    assert not (project / "book").exists()


def test_command_line_parameter_override(project):
    from lossbook.__main__ import main

    assert main(["run", "tiny", "-p", "n=4"]) == 0
    assert json.loads((project / "book" / "results" / "tiny.json").read_text())["results"] == {"total": 6}
    with pytest.raises(SystemExit):
        main(["run", "tiny", "-p", "n"])


@pytest.mark.parametrize("value, expected", [
    ("1e-4", 1e-4), ("1e-3", 1e-3), ("1E3", 1000.0), ("-2.5e+2", -250.0), (".5e1", 5.0), ("2.", 2.0),
    ("3", 3), ("0.5", 0.5), ("null", None), ("true", True), ("[1e-4, 3]", [1e-4, 3]), ("{a: 1e-2}", {"a": 0.01}),
    ("focal", "focal"), ("e5", "e5"), ("'1e-4'", "1e-4"),
])
def test_parameter_values_are_read_as_a_user_writes_them(value, expected):
    from lossbook.__main__ import parse_override

    name, parsed = parse_override(f"x={value}")
    assert name == "x" and parsed == expected and type(parsed) is type(expected)


def test_a_value_in_e_notation_reaches_the_chapter_as_a_number(project):
    from lossbook.__main__ import main

    assert main(["run", "tiny", "-p", "n=4e0"]) == 1  # range(4.0) fails inside the chapter: it got a float
    assert main(["run", "tiny", "-p", "n=4"]) == 0


@pytest.mark.parametrize("item", ["n=[1,", "n={a: ]", "n='open", "n=a: b: c", "n", "=3", "1n=3"])
def test_malformed_parameter_is_one_line_and_exit_code_2(project, capsys, item):
    from lossbook.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["run", "tiny", "-p", item])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "error:" in err and "Traceback" not in err
    assert not (project / "book").exists()


def test_output_dir_that_is_a_file_is_refused_with_exit_code_2(project, tmp_path, capsys):
    from lossbook.__main__ import main

    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    assert main(["run", "tiny", "--output-dir", str(a_file)]) == 2
    assert main(["run", "tiny", "--output-dir", str(a_file / "below")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("is an existing file" in line or "which is an existing file" in line for line in err)
    assert a_file.read_text() == "keep me"


def test_command_line_exit_codes_in_a_fresh_process(project, tmp_path):
    import os
    import subprocess
    import sys

    a_file = tmp_path / "f"
    a_file.write_text("")
    env = {**os.environ, "LOSSBOOK_ROOT": str(project)}
    for args in (["-p", "n=[1,"], ["--output-dir", str(a_file)]):
        done = subprocess.run([sys.executable, "-m", "lossbook", "run", "tiny", *args], env=env,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


APPENDIX = """
# %% tags=["parameters"]
m = 0

# %%
from lossbook.publish.results import save_results
save_results("appendix", {"m": m}, parameters={"m": m})
"""


def test_the_timing_table_chapter_runs_after_any_other_without_their_parameters(tmp_path, monkeypatch):
    root = _project(tmp_path / "repo", {"tiny": TINY, "appendix": APPENDIX},
                    "tiny:\n  full: {}\n  quick: {}\nappendix:\n  full: {}\n  quick: {}\n")
    monkeypatch.setenv("LOSSBOOK_ROOT", str(root))
    monkeypatch.delenv("LOSSBOOK_OUTPUT_DIR", raising=False)
    assert runner.TIMING_TABLE_CHAPTER == "appendix"
    assert runner.run(["tiny"], "quick", parameters={"n": 4}) == 0  # n is tiny's parameter, not the appendix's
    results = root / runner.QUICK_OUTPUTS / "results"
    assert json.loads((results / "tiny.json").read_text())["results"] == {"total": 6}
    assert json.loads((results / "appendix.json").read_text())["results"] == {"m": 0}


def test_a_chapter_is_made_by_the_modules_it_imports_and_the_runner(tmp_path):
    from lossbook.core.cache import fingerprint_modules

    source = "# %%\nimport lossbook\nfrom lossbook.studies import dia\nfrom lossbook.core.params import collect\n"
    assert runner._code_fingerprint(source) == fingerprint_modules(
        ["lossbook.studies.dia", "lossbook.core.params", "lossbook.publish.runner"])
    # a chapter that does not import robustness is not stale when robustness changes
    assert runner._code_fingerprint(source) != runner._code_fingerprint(source + "import lossbook.studies.robustness\n")
