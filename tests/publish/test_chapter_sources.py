"""Chapter sources stay thin and start right.

Chapters carry the narrative and call the package: most of each source's lines are
prose, code cells are short, and no chapter defines a function or class (the logic
lives in ``lossbook``, where it is documented and tested). A chapter that uses
TensorFlow imports ``lossbook`` first, because ``lossbook`` sets the environment
TensorFlow reads once, at import (oneDNN, without which the stacked CNN cannot be
differentiated on CPUs without AVX-512).
"""
from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("*.py"))
MIN_PROSE_SHARE = 0.55
MAX_CODE_CELL_LINES = 12  # the parameters cell is exempt: it lists every parameter with its comment
FRAMEWORKS = ("keras", "tensorflow", "torch")


def _cells(path: Path):
    """``(cell_type, non-blank lines, tags)`` of each cell of a jupytext ``py:percent`` source."""
    for cell in jupytext.read(path).cells:
        lines = [line for line in cell.source.splitlines() if line.strip()]
        yield cell.cell_type, lines, cell.metadata.get("tags", [])


def test_there_are_chapters():
    assert len(CHAPTERS) >= 8


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_chapter_is_mostly_prose(path):
    cells = list(_cells(path))
    prose = sum(len(lines) for kind, lines, _ in cells if kind == "markdown")
    total = sum(len(lines) for _, lines, _ in cells)
    assert prose / total >= MIN_PROSE_SHARE, f"{path.name}: {prose / total:.0%} of its lines are prose"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_cells_are_short_and_define_nothing(path):
    for index, (kind, lines, tags) in enumerate(_cells(path)):
        if kind != "code":
            continue
        if "parameters" not in tags:
            assert len(lines) <= MAX_CODE_CELL_LINES, f"{path.name}, cell {index}: {len(lines)} lines of code"
        defined = [line.strip() for line in lines if line.lstrip().startswith(("def ", "class ", "async def "))]
        assert not defined, f"{path.name}, cell {index} defines {defined}: move it into the package"


def _first_import_lines(path: Path) -> tuple[int | None, int | None]:
    """Line of the first ``lossbook`` import and of the first TensorFlow/Keras/torch import."""
    first_lossbook = first_framework = None
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # a py:percent source is Python
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        else:
            continue
        roots = {module.split(".")[0] for module in modules}
        if "lossbook" in roots and (first_lossbook is None or node.lineno < first_lossbook):
            first_lossbook = node.lineno
        if roots & set(FRAMEWORKS) and (first_framework is None or node.lineno < first_framework):
            first_framework = node.lineno
    return first_lossbook, first_framework


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_lossbook_is_imported_before_any_framework(path):
    first_lossbook, first_framework = _first_import_lines(path)
    if first_framework is not None:
        assert first_lossbook is not None and first_lossbook < first_framework, (
            f"{path.name} imports {'/'.join(FRAMEWORKS)} (line {first_framework}) before lossbook "
            f"(line {first_lossbook}): put `import lossbook` first"
        )
