"""Curves side by side for the tutorial examples; matplotlib is optional and imported lazily."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Panel:
    """One panel: named curves (one value per epoch) with their titles and scale."""

    title: str
    ylabel: str
    curves: Mapping[str, Sequence[float]]
    yscale: str = "linear"
    styles: Mapping[str, str] = field(default_factory=dict)


def save_panels(path: Any, panels: Sequence[Panel]) -> Path | None:
    """Draw ``panels`` in one row and save them to ``path`` (its folder is created).

    Returns the path written, or None (after saying so) when matplotlib is not installed: the
    examples run without it.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        for label, values in panel.curves.items():
            ax.plot(values, panel.styles.get(label, "-"), label=label, linewidth=1.2)
        ax.set(xlabel="epoch", ylabel=panel.ylabel, title=panel.title, yscale=panel.yscale)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot written to {path}")
    return path
