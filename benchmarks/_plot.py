"""The plot: export time against concurrency, with the physical limit."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.ticker import ScalarFormatter

from .bench_export import ExportCurve


def plot_export(curve: ExportCurve, path: Path) -> None:
    levels = sorted(curve.seconds)
    limit = [curve.pages * curve.latency / c for c in levels]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    axes.plot(levels, limit, "k--", label="physical limit (pages x latency / concurrency)")
    axes.plot(
        levels, [curve.seconds[c] for c in levels], "o-", color="tab:blue", label="timelines_async"
    )
    axes.plot([8], [curve.raw_window], "s", color="tab:green", label="raw httpx read-ahead window")
    axes.axhline(
        curve.sequential, color="tab:red", linestyle=":", label="seed-style sequential loop"
    )
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(levels, [str(c) for c in levels])
    axes.set_xlabel("concurrency")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.yaxis.set_minor_formatter(ScalarFormatter())
    axes.set_ylabel("seconds (log scale)")
    axes.set_title(
        f"Listing {curve.pages * 50:,} chats ({curve.pages} pages, "
        f"{curve.latency * 1000:.0f} ms latency) over loopback"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
