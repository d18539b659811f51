"""Sphinx configuration of nablanet's documentation site.

Build it (warnings are errors, as in CI)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing is fetched from the network: no intersphinx inventories, no remote images, and the
theme's fonts and icons ship with it. The gallery (sphinx-gallery) runs ``examples/*.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nablanet

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))

project = "nablanet"
author = "the nablanet developers"
copyright = "the nablanet developers"
release = nablanet.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "gallery/*.ipynb"]
templates_path = ["_templates"]

# MyST: headings get anchors (``[link](page.md#a-heading)``); equations in ```{math} blocks
# and {math}`...` roles (no $...$: a dollar sign in prose stays a dollar sign).
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# API reference: one page per public module (autosummary), docstrings read by numpydoc.
autosummary_generate = True
autosummary_imported_members = False
# ``python -m nablanet`` runs the command line when imported: autosummary, which imports every
# submodule it walks, gets a stand-in instead (they are private, so they have no page).
autosummary_mock_imports = ["nablanet.__main__", "nablanet.cli.__main__"]
# "ignore-module-all": a package re-exports its submodules' names in __all__; each object is
# documented once, on the page of the module that defines it.
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False  # autodoc's :members: lists them once
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata routing): they
    are scikit-learn's API, documented there, and their docstrings are not numpydoc."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)


html_theme = "pydata_sphinx_theme"
html_title = f"nablanet {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "icon_links": [],
}
html_last_updated_fmt = None  # no build date in the pages: the same tree builds the same HTML
html_show_sourcelink = False

# The gallery: every examples/*.py is run with its defaults, its figures shown on its page.
from gallery_conf import sphinx_gallery_conf  # noqa: E402  (needs sys.path above)

__all__ = ["sphinx_gallery_conf"]
