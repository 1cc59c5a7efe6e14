"""MkDocs hook: pages quote figures from the files the project's own runs write.

- `<!-- reliability-figures -->` becomes a table of what the reliability suite
  measured, read from `docs/reliability/short.json` and `full.json` (written by
  `TIMELINES_RELIABILITY_FIGURES=... pytest tests/reliability`, see
  CONTRIBUTING.md).
- `<!-- benchmark-results -->` becomes `benchmarks/RESULTS.md` (written by
  `nox -s bench`), its headings moved one level down, its plot copied beside
  the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY = ROOT / "docs" / "reliability"
PROFILES = ("short", "full")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PLOT = "export_concurrency.png"


def on_files(files: Files, config: Any, **_: Any) -> Files:
    """The benchmark plot, served beside the performance page that shows it."""
    files.append(File.generated(config, f"guide/{PLOT}", abs_src_path=str(RESULTS.parent / PLOT)))
    return files


def on_page_markdown(markdown: str, **_: Any) -> str:
    if "<!-- reliability-figures -->" in markdown:
        markdown = markdown.replace("<!-- reliability-figures -->", reliability_table())
    if "<!-- benchmark-results -->" in markdown:
        markdown = markdown.replace("<!-- benchmark-results -->", benchmark_results())
    return markdown


def reliability_table() -> str:
    """One row per reliability test, one column per profile."""
    figures = {profile: _load(RELIABILITY / f"{profile}.json") for profile in PROFILES}
    tests = sorted({test for measured in figures.values() for test in measured})
    if not tests:
        raise ValueError(f"no reliability figures in {RELIABILITY}")
    rows = ["| | short profile | full profile |", "|---|---|---|"]
    for test in tests:
        cells = [_cell(figures[profile].get(test)) for profile in PROFILES]
        rows.append(f"| **{test}** | {cells[0]} | {cells[1]} |")
    return "\n".join(rows)


def _load(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _cell(measured: dict[str, Any] | None) -> str:
    if measured is None:
        return "not measured"
    return "<br>".join(f"{_label(key)}: {_value(value)}" for key, value in measured.items())


def _label(key: str) -> str:
    return key.replace("_", " ")


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_label(key)} {_value(item)}" for key, item in value.items()) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    return str(value)


def benchmark_results() -> str:
    """RESULTS.md without its title, every heading one level down."""
    text = RESULTS.read_text(encoding="utf-8")
    text = re.sub(r"\A# .*\n", "", text)
    return re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)
