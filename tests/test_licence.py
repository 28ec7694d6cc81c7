"""LICENSE (MIT code, CC BY 4.0 text and figures) and CITATION.cff, validated by cffconvert.

cffconvert 2.0.0 (the release on PyPI) pins jsonschema<4, which the Jupyter stack
cannot use, so it lives in its own virtual environment: .ci/run makes it in
.ci/tools (README, Test). Without it this test skips and says how to get it;
CI sets LOSSBOOK_REQUIRE_TOOLS=1, which turns that skip into a failure.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]


def _cffconvert() -> str:
    for candidate in (os.environ.get("LOSSBOOK_CFFCONVERT"), REPO / ".ci" / "tools" / "bin" / "cffconvert",
                      shutil.which("cffconvert")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    message = ("cffconvert not found: python3 -m venv .ci/tools && .ci/tools/bin/pip install cffconvert==2.0.0 "
               "(its own environment: it needs jsonschema<4)")
    if os.environ.get("LOSSBOOK_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def test_citation_cff_is_valid(tmp_path):
    tool = _cffconvert()
    done = subprocess.run([tool, "--validate", "-i", str(REPO / "CITATION.cff")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # The check can fail: a citation without authors is refused.
    broken = tmp_path / "CITATION.cff"
    text = (REPO / "CITATION.cff").read_text()
    broken.write_text(text.replace("authors:\n  - name: \"The lossbook authors\"\n", ""))
    assert subprocess.run([tool, "--validate", "-i", str(broken)], capture_output=True, check=False).returncode != 0


def test_licences_agree_across_license_citation_pyproject_readme_and_footer():
    licence = (REPO / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY 4.0" in licence
    assert "MIT" in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]["text"]
    citation = (REPO / "CITATION.cff").read_text()
    assert "- MIT" in citation and "- CC-BY-4.0" in citation
    readme = (REPO / "README.md").read_text()
    assert "MIT" in readme and "CC BY 4.0" in readme
    footer = (REPO / "_config.yml").read_text().split("extra_footer:", 1)[1].split("\n\n", 1)[0]
    assert "MIT" in footer and "CC BY 4.0" in footer
