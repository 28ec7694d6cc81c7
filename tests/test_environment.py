"""pyproject.toml is the single source of dependencies; environment.yml must mirror it."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_environment_yml_mirrors_pyproject_dependencies():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    conda = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    mirrored = [req for req in pip_section if not req.startswith("-e")]
    assert sorted(map(_normalise, mirrored)) == sorted(map(_normalise, declared))


def test_ci_runs_the_test_command_that_readme_gives():
    readme = (REPO / "README.md").read_text()
    command = re.search(r"<!-- test-command -->\s*```bash\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in (REPO / ".ci" / "run").read_text()
