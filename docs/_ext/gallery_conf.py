"""sphinx-gallery's configuration for ``examples/``: how each example runs and how its figures
reach its page.

nablanet's plots never touch pyplot's global state (``nablanet.plot`` builds plain matplotlib
``Figure`` objects and saves them), so sphinx-gallery's matplotlib scraper would find nothing.
Instead every example runs as on the command line with its defaults plus ``--out DIR``, a
directory of this build, and :func:`png_scraper` puts the PNG files it wrote on its page.

Which examples run:

- every ``examples/*.py`` with its default settings, except
- ``fashion_mnist.py``, which needs the data (``apt-get install dataset-fashion-mnist``): it
  runs with ``--quick`` (1 epoch on 5,000 images instead of the 30-epoch recipe, which takes
  minutes) when the data is installed, and is shown without running otherwise;
- ``dask_scale_out.py``, which starts a two-process Dask cluster: shown, never run.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent
ROOT = DOCS.parent

#: Where the examples write their plots during this build (``--out``), one folder each.
OUT = Path(tempfile.mkdtemp(prefix="nablanet-gallery-"))
atexit.register(shutil.rmtree, OUT, ignore_errors=True)

NEVER_RUN = ("dask_scale_out",)
QUICK = ("fashion_mnist",)


def fashion_mnist_installed() -> bool:
    """True when the Fashion-MNIST IDX files are where ``load_fashion_mnist`` looks."""
    from nablanet.datasets.idx import FASHION_MNIST_DIR, FASHION_MNIST_ENV

    directory = Path(os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR)
    return any(
        (directory / name).is_file()
        for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz")
    )


def _filename_pattern() -> str:
    """A regular expression matching the examples to run (sphinx-gallery's filename_pattern)."""
    skip = list(NEVER_RUN) + ([] if fashion_mnist_installed() else ["fashion_mnist"])
    return r"/(?!(?:" + "|".join(map(re.escape, skip)) + r")\.py$)[^/]+\.py$"


def reset_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    """The command-line arguments of one example: ``--out`` into this build's directory."""
    stem = Path(script_vars["src_file"]).stem
    args = ["--out", str(OUT / stem)]
    return args + (["--quick"] if stem in QUICK else [])


_seen: set[Path] = set()


def png_scraper(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """Show the PNG files an example wrote to its ``--out`` directory since the last block."""
    from sphinx_gallery.scrapers import figure_rst

    folder = OUT / Path(block_vars["src_file"]).stem
    new = sorted(p for p in folder.glob("*.png") if p not in _seen) if folder.is_dir() else []
    shown = []
    paths = block_vars["image_path_iterator"]  # where sphinx-gallery wants this page's images
    for png in new:
        target = next(paths)
        _seen.add(png)
        shutil.copyfile(png, target)
        shown.append(target)
    return figure_rst(shown, gallery_conf["src_dir"])


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "gallery",
    "filename_pattern": _filename_pattern(),
    "ignore_pattern": r"__init__\.py",
    "image_scrapers": ("gallery_conf.png_scraper",),
    "reset_argv": "gallery_conf.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "show_memory": False,
    "remove_config_comments": True,
    "min_reported_time": 1e9,  # no run times on the pages: the same tree builds the same HTML
    "write_computation_times": False,
    "reference_url": {},
    "backreferences_dir": None,
    "capture_repr": (),
}
