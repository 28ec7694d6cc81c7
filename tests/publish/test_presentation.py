"""The page shows study code behind a toggle, removes bookkeeping, and keeps every explicit tag."""
from __future__ import annotations

import textwrap

import nbformat
import pytest

from lossbook.publish import presentation, runner


def code(source, tags=()):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


@pytest.mark.parametrize("source", [
    "import numpy as np\nfrom myst_nb import glue",
    "seed_everything(seed)\nplots.set_style()",
    'glue("n", 3, display=False)\nglue("m", 4, display=False)',
    'for key, value in numbers.items():\n    glue(key, value, display=False)',
    'results_file = save_results("x", {"a": 1}, parameters={})',
    "import pandas as pd\npd.set_option('display.max_colwidth', 80)",
])
def test_bookkeeping_cells_are_removed(source):
    assert presentation.is_bookkeeping(source)
    assert presentation.presentation_tag(code(source)) == "remove-cell"


@pytest.mark.parametrize("source", [
    "table = frame.round(3)\ntable",  # shows a result
    'x = compute()\nglue("x", x, display=False)',  # glue mixed with computation
    'print("results written")',
    "for k in ks:\n    glue(k, fit(k), display=False)\n    fit_more(k)",
    "fig, ax = plt.subplots()",
    "# only a comment",
    "%matplotlib inline",  # a magic does not parse: treated as code
    "",
])
def test_study_code_is_hidden_behind_a_toggle(source):
    assert not presentation.is_bookkeeping(source)
    assert presentation.presentation_tag(code(source)) == "hide-input"


def test_explicit_tags_win_and_other_tags_are_kept():
    shown = code("import numpy as np", tags=["show-input"])
    removed = code("table", tags=["remove-input"])
    parameters = code("n = 3", tags=["parameters"])
    notebook = nbformat.v4.new_notebook(cells=[shown, removed, parameters, nbformat.v4.new_markdown_cell("text")])
    added = presentation.tag_code_cells(notebook)
    assert added == {"hide-input": 1}
    assert shown.metadata["tags"] == ["show-input"]
    assert removed.metadata["tags"] == ["remove-input"]
    assert parameters.metadata["tags"] == ["parameters", "hide-input"]
    assert "tags" not in notebook.cells[3].metadata


CHAPTER = '''\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tiny

# %% tags=["parameters"]
n = 3

# %%
from myst_nb import glue

# %%
total = sum(range(n))
glue("total", total, display=False)
total

# %%
glue("twice", 2 * total, display=False)

# %% tags=["remove-input"]
print("kept as tagged")
'''


def test_the_runner_tags_the_executed_notebook_and_keeps_all_code(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "_config.yml").write_text("title: test\n")
    (root / "notebooks" / "tiny.py").write_text(CHAPTER)
    (root / "notebooks" / "profiles.yml").write_text("tiny:\n  full: {}\n  quick: {n: 4}\n")
    monkeypatch.setenv("LOSSBOOK_ROOT", str(root))
    monkeypatch.delenv("LOSSBOOK_OUTPUT_DIR", raising=False)
    assert runner.run(["tiny"], "quick") == 0
    notebook = nbformat.read(root / runner.QUICK_OUTPUTS / "tiny.ipynb", as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    by_source = {c.source.splitlines()[-1]: c.metadata.get("tags", []) for c in cells}
    assert by_source["n = 3"] == ["parameters", "hide-input"]
    assert by_source["n = 4"] == ["injected-parameters", "hide-input"]  # papermill's quick-profile cell
    assert by_source["from myst_nb import glue"] == ["remove-cell"]
    assert by_source["total"] == ["hide-input"]
    assert by_source['glue("twice", 2 * total, display=False)'] == ["remove-cell"]
    assert by_source['print("kept as tagged")'] == ["remove-input"]
    # the downloadable notebook keeps every line of code, and the glued values are there
    assert any("glue(\"twice\"" in c.source for c in cells)
    glued = [o for c in cells for o in c.outputs if o.get("metadata", {}).get("scrapbook")]
    assert {o.metadata["scrapbook"]["name"] for o in glued} == {"total", "twice"}


def _output_texts(notebook):
    """Text outputs that nbval compares and the page shows (stderr is neither: conftest.py, _config.yml)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            texts = [output.get("text", "")] + [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
            for text in texts:
                yield cell, "".join(text) if isinstance(text, list) else str(text)


def test_committed_outputs_hold_no_machine_paths():
    # A path in an output differs on every machine, so nbval fails on a fresh clone.
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    machine = [str(root), str(Path.home())]
    if os.environ.get("LOSSBOOK_DATA_DIR"):
        machine.append(str(Path(os.environ["LOSSBOOK_DATA_DIR"]).resolve()))
    machine = [m for m in machine if len(m) > 1]  # a home of "/" would match everything
    for path in sorted([*(root / "book").glob("*.ipynb"), *(root / runner.QUICK_OUTPUTS).glob("*.ipynb")]):
        for cell, text in _output_texts(nbformat.read(path, as_version=4)):
            found = [m for m in machine if m in text] + (["PosixPath("] if "PosixPath(" in text else [])
            assert not found, f"{path.relative_to(root)}: an output of cell {cell.source[:60]!r} shows {found[0]!r}"
