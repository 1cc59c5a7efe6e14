"""Developer sessions: `nox -s tests lint types coverage bench reliability docs`.

The test sessions run on every Python the package's classifiers name that this
machine has (`python3.X` on PATH, or a pyenv install); the others are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint", "types"]
nox.options.reuse_existing_virtualenvs = True
#: A Python this machine lacks is skipped, on CI too: the classifiers list more than any one box.
nox.options.error_on_missing_interpreters = False

_CLASSIFIER = "Programming Language :: Python :: "


def _classified_pythons() -> list[str]:
    """The `3.X` versions the pyproject's classifiers name, oldest first."""
    project = tomllib.loads(Path(__file__).with_name("pyproject.toml").read_text())["project"]
    versions = [
        entry.removeprefix(_CLASSIFIER)
        for entry in project["classifiers"]
        if re.fullmatch(re.escape(_CLASSIFIER) + r"3\.\d+", entry)
    ]
    return sorted(versions, key=lambda version: tuple(map(int, version.split("."))))


def _put_pyenv_installs_on_path(versions: list[str]) -> None:
    """pyenv's shims answer `python3.12` only for its active versions: use the installs."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in versions:
        installs = sorted(root.glob(f"{version}.*/bin"), reverse=True)
        if installs and not _runs(f"python{version}"):
            os.environ["PATH"] = f"{installs[0]}{os.pathsep}{os.environ['PATH']}"


def _runs(command: str) -> bool:
    found = shutil.which(command)
    return found is not None and "shims" not in Path(found).parts


PYTHONS = _classified_pythons()
_put_pyenv_installs_on_path(PYTHONS)
OLDEST = PYTHONS[0]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite as CI runs it (the short reliability profile included)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session(python=OLDEST)
def coverage(session: nox.Session) -> None:
    """The suite with branch coverage of the package, reported per module."""
    session.install("-e", ".[dev]")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", "-q")
    session.run("coverage", "report")


@nox.session(python=OLDEST)
def reliability(session: nox.Session) -> None:
    """The full reliability suite under faults (minutes, not seconds)."""
    session.install("-e", ".[dev]")
    session.run(
        "pytest", "tests/reliability", "-p", "no:randomly", env={"TIMELINES_RELIABILITY": "full"}
    )


@nox.session(python=OLDEST)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=OLDEST)
def types(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session(python=OLDEST)
def bench(session: nox.Session) -> None:
    """Benchmarks as ratios measured in one run; writes benchmarks/RESULTS.md."""
    session.install("-e", ".[dev,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python=OLDEST)
def docs(session: nox.Session) -> None:
    """The documentation site into site/, strictly: a broken link or reference fails."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})
