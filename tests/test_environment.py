"""pyproject.toml is the single source of dependencies; environment.yml must mirror it."""
from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

REPO = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_environment_yml_mirrors_pyproject_dependencies():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    conda = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    mirrored = [req for req in pip_section if not req.startswith("-")]  # options: -e ., index URLs
    assert sorted(map(_normalise, mirrored)) == sorted(map(_normalise, declared))


def test_ci_runs_the_test_command_that_readme_gives():
    readme = (REPO / "README.md").read_text()
    command = re.search(r"<!-- test-command -->\s*```bash\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in (REPO / ".ci" / "run").read_text()


CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def _pip_section(path: Path) -> list[str]:
    conda = yaml.safe_load(path.read_text())
    return next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))


def test_binder_environment_is_the_root_one_without_the_editable_install():
    root = yaml.safe_load((REPO / "environment.yml").read_text())
    binder = yaml.safe_load((REPO / "binder" / "environment.yml").read_text())
    assert "-e ." in _pip_section(REPO / "environment.yml")
    assert [r for r in _pip_section(REPO / "environment.yml") if r != "-e ."] == _pip_section(
        REPO / "binder" / "environment.yml")
    assert [d for d in root["dependencies"] if not isinstance(d, dict)] == [
        d for d in binder["dependencies"] if not isinstance(d, dict)]


def test_torch_comes_from_the_cpu_wheel_index_in_both_environments():
    """`torch==2.13.0` with PyTorch's CPU index resolves to 2.13.0+cpu, not the CUDA build."""
    for path in (REPO / "environment.yml", REPO / "binder" / "environment.yml"):
        pip_section = _pip_section(path)
        assert pip_section[0] == CPU_INDEX, f"{path}: the CPU index must come first"
        torch = [r for r in pip_section if re.match(r"torch\b", r) and not r.startswith("torchvision")]
        assert torch == ["torch==2.13.0"], f"{path}: torch must be pinned exactly, got {torch}"


def test_binder_post_build_installs_the_package_and_the_quick_notebooks():
    post_build = (REPO / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build
    assert "python -m lossbook.publish.binder write" in post_build
    start = (REPO / "binder" / "start").read_text()
    assert 'exec "$@"' in start
    for name in ("postBuild", "start"):
        assert (REPO / "binder" / name).stat().st_mode & 0o111, f"binder/{name} must be executable"
