"""Binder: quick-profile copies of the chapters, and running one as Binder would.

A reader who presses a chapter's rocket button lands in ``binder/quick/<chapter>.ipynb``
(see ``lossbook.publish.sphinx_ext``): the chapter source with its quick-profile
parameters from ``notebooks/profiles.yml`` injected after the ``parameters`` cell,
exactly as the runner's ``--profile quick`` would pass them, but not executed.
``binder/postBuild`` writes these copies when the Binder image is built::

    python -m lossbook.publish.binder write            # -> binder/quick/<chapter>.ipynb
    python -m lossbook.publish.binder run dia          # execute one as Binder would; prints JSON

``run`` executes the copy in a fresh kernel with the environment ``binder/start``
sets, and reports its wall time and the kernel's peak resident memory
(``resource.getrusage(RUSAGE_CHILDREN)``, read after the kernel has exited).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from lossbook.core.paths import repo_root
from lossbook.publish.runner import Chapter, _check_parameter_names, load_chapters

QUICK_DIR = Path("binder") / "quick"
#: What binder/start exports before Jupyter starts: chapters write their results and
#: figures under _build/binder, never over the published book/.
BINDER_OUTPUT_DIR = Path("_build") / "binder"


def quick_notebook(chapter: Chapter):
    """The chapter as a notebook with its quick-profile parameters injected (not executed)."""
    import jupytext
    from papermill.parameterize import parameterize_notebook

    notebook = jupytext.read(chapter.source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in notebook.cells:
        cell.metadata.setdefault("tags", [])  # papermill looks the parameters cell up by tag
    notebook.metadata.setdefault("papermill", {})
    parameters = chapter.parameters("quick")
    _check_parameter_names(chapter, notebook, parameters)
    if not parameters:
        return notebook
    return parameterize_notebook(notebook, parameters, comment="Quick profile (notebooks/profiles.yml)",
                                 kernel_name="python3", language="python")


def write_quick_notebooks(target: Path | None = None, root: Path | None = None) -> list[Path]:
    """Write ``<target>/<chapter>.ipynb`` for every chapter; returns the paths."""
    import nbformat

    root = root or repo_root()
    target = Path(target) if target is not None else root / QUICK_DIR
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, chapter in load_chapters(root).items():
        path = target / f"{name}.ipynb"
        nbformat.write(quick_notebook(chapter), path)
        written.append(path)
    return written


def binder_environment(root: Path | None = None) -> dict[str, str]:
    """The environment variables binder/start exports (read from that file, not repeated here)."""
    root = root or repo_root()
    exported = {}
    for line in (root / "binder" / "start").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export "):].split("=", 1)
            exported[key] = os.path.expandvars(value.strip('"').replace("$HOME", str(root)))
    return exported


def run_as_binder(name: str, root: Path | None = None, timeout: int = 1200) -> dict:
    """Execute ``binder/quick/<name>.ipynb`` as Binder would; wall time and kernel peak memory.

    The notebook runs from the quick folder with binder/start's environment. A chapter
    that stops because its data are unavailable counts as finished when it stopped with
    :class:`lossbook.core.data.DataUnavailable`; ``stopped_for_data`` is then what the
    reader sees in place of a traceback.
    """
    import nbclient

    root = root or repo_root()
    chapter = load_chapters(root)[name]
    folder = root / QUICK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.update(binder_environment(root))
    notebook = quick_notebook(chapter)
    start = time.perf_counter()
    stopped = None
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}}).execute()
    except nbclient.exceptions.CellExecutionError as error:
        if error.ename != "DataUnavailable":
            raise
        # What the reader sees: the error output's traceback lines (the message alone).
        stopped = "\n".join(line for cell in notebook.cells for output in cell.get("outputs", [])
                            if output.get("output_type") == "error" for line in output["traceback"])
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB; the kernel has exited
    return {"chapter": name, "seconds": round(wall, 1), "peak_rss_bytes": peak_kib * 1024,
            "stopped_for_data": stopped}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lossbook.publish.binder", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write binder/quick/<chapter>.ipynb for every chapter")
    write.add_argument("--target", type=Path, default=None)
    run = commands.add_parser("run", help="execute one chapter's quick copy as Binder would; print JSON")
    run.add_argument("chapter")
    args = parser.parse_args(argv)
    if args.command == "write":
        for path in write_quick_notebooks(args.target):
            print(path)
        return 0
    print(json.dumps(run_as_binder(args.chapter)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
