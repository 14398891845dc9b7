"""Sphinx configuration of exprc's documentation site.

Build it from the repository root with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The Markdown pages of ``docs/`` are read as they are by MyST; the API reference
(``docs/api/``) is generated from the numpydoc docstrings by autodoc and napoleon. The root of
the site is ``contents.rst``: ``index.md`` stays the overview that GitHub shows.
"""

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

import exprc  # noqa: E402

project = "exprc"
author = "the exprc developers"
copyright = "the exprc developers"
release = exprc.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
]

root_doc = "contents"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# --- API reference: numpydoc docstrings through napoleon --------------------------------
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
autosummary_generate = False  # the tables link to the automodule entries on the same page

# --- Markdown pages ------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# --- HTML ----------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"exprc {release}"
html_static_path = []


# --- Links out of docs/ -------------------------------------------------------------------
# The Markdown pages link to the repository's README as ``../README.md`` so that they work on
# GitHub. The site holds the README as the page ``readme`` (readme.md includes it); the links
# are pointed there as each page is read. Other links to files outside docs/ (the examples'
# sources) become downloads, as MyST makes them.
def _link_readme(app, docname, source):
    source[0] = source[0].replace("](../README.md)", "](readme.md)")


def setup(app):
    app.connect("source-read", _link_readme)
