"""The vantage6 algorithm package (``federated/vantage6``) fits livermet as it is here.

Its tests run in their own environment (``make vantage6-test``, from ``.ci/run``) with vantage6's
mock client; these checks need no vantage6 and guard what that environment and the algorithm's
Docker image rely on: that the livermet modules the algorithm imports pull in none of
livermet's dependencies that the image leaves out (livermet goes in with ``--no-deps``), that
the algorithm's dependencies keep livermet's bounds, and that the Dockerfile installs and runs
the package that exists.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "federated" / "vantage6"
ENGINE = "vantage6-algorithm-tools"


def _algorithm_project() -> dict[str, Any]:
    """Return the ``[project]`` table of the algorithm package."""
    return dict(tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"])


def _requirements(lines: list[str]) -> dict[str, Requirement]:
    """Return the requirements that apply without extras, by normalised name."""
    out: dict[str, Requirement] = {}
    for line in lines:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            out[canonicalize_name(req.name)] = req
    return out


def _livermet_imports() -> set[str]:
    """Return the livermet modules that the algorithm package imports."""
    found = set()
    for path in (PACKAGE / "v6_livermet").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("livermet"):
                found.add(str(node.module))
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("livermet")}
    return found


def test_algorithm_imports_only_what_its_image_installs() -> None:
    """Importing what the algorithm imports loads no module of a dependency left out."""
    modules = sorted(_livermet_imports())
    assert "livermet.federated" in modules
    code = f"import sys, json; import {', '.join(modules)}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    installed = set(_requirements(_algorithm_project()["dependencies"]))
    left_out = set(_requirements(requires("livermet") or [])) - installed
    distributions = packages_distributions()
    pulled = {
        (module, dist)
        for module in loaded
        for dist in distributions.get(module.split(".")[0], [])
        if canonicalize_name(dist) in left_out
    }
    assert not pulled, f"modules of dependencies the algorithm image leaves out: {sorted(pulled)}"


def test_algorithm_dependencies_keep_livermets_bounds() -> None:
    """Every dependency but vantage6's pinned tools is livermet's, with livermet's bounds."""
    ours = _requirements(_algorithm_project()["dependencies"])
    livermet = _requirements(requires("livermet") or [])
    assert ENGINE in ours and str(ours[ENGINE].specifier).startswith("==")
    for name, req in ours.items():
        if name == ENGINE:
            continue
        assert name in livermet, f"{name} is not a dependency of livermet"
        assert set(livermet[name].specifier) <= set(req.specifier), name


def test_dockerfile_installs_and_runs_the_package() -> None:
    """The image installs the package and livermet (no deps) and runs vantage6's wrapper."""
    dockerfile = (PACKAGE / "Dockerfile").read_text()
    ignore = (PACKAGE / "Dockerfile.dockerignore").read_text().split()
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    package = re.search(r"^ARG PKG_NAME=(\S+)$", dockerfile, re.M)
    assert package is not None and [package.group(1)] == project["tool"]["setuptools"]["packages"]
    assert "ENV PKG_NAME=${PKG_NAME}" in dockerfile
    assert "pip install --no-cache-dir --no-deps /build/livermet" in dockerfile
    command = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert command is not None and "wrap_algorithm()" in json.loads(command.group(1))[-1]
    python = re.search(r"^FROM python:(\d+\.\d+)-slim$", dockerfile, re.M)
    assert python is not None
    version = tuple(int(p) for p in python.group(1).split("."))
    for requires_python in (_algorithm_project()["requires-python"], ">=3.11"):
        assert version >= tuple(int(p) for p in requires_python.removeprefix(">=").split("."))
    for source in re.findall(r"^COPY (.+) /build/\S+$", dockerfile, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path
            sent = any(line == f"!{path}" or line.startswith(f"!{path}/") for line in ignore)
            assert sent, f"{path} is not sent to the build (Dockerfile.dockerignore)"
