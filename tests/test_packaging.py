"""environment.yml (conda users) and pyproject.toml (pip users) must agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    """Normalized distribution name of a requirement string ('dask[distributed]>=1' -> 'dask')."""
    return re.split(r"[\[<>=!~ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs.extend(extra)
    out: dict[str, str] = {}
    for r in reqs:
        out[_name(r)] = r
        # dask[distributed] is two packages on conda-forge
        if "[distributed]" in r:
            out["distributed"] = r
    return out


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for r in dep.get("pip", []):
                if not r.startswith("-e"):
                    out[_name(r)] = r
        else:
            out[_name(dep)] = dep
    for tool in ("python", "pip"):
        out.pop(tool, None)
    return out


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    py = _pyproject_requirements()
    env = _environment_requirements()
    assert sorted(set(py) - set(env)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(env) - set(py)) == [], "in environment.yml but not pyproject.toml"


def test_environment_yml_is_conda_forge_python_311_and_installs_the_project():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_lower_bounds_agree():
    py = _pyproject_requirements()
    env = _environment_requirements()
    for name, req in env.items():
        bound = re.search(r">=\s*([\w.]+)", req)
        if bound:
            assert f">={bound.group(1)}" in py[name].replace(" ", ""), (name, req, py[name])


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    block = re.search(r"<!-- test-command -->\s*```(?:sh|bash)?\n(.+?)\n```", readme, re.S)
    assert block, "README must hold the test command in a marked code block"
    command = block.group(1).strip()
    assert command in ci
