"""Sphinx configuration: funml's API reference, from its numpydoc docstrings.

Build it (the ``docs`` extra) with warnings as errors, as CI does::

    python -m sphinx -W --keep-going -b html docs/api build/docs
"""

import funml

project = "funml"
copyright = "2026, the funml contributors"
release = funml.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the numpydoc sections (Parameters, Returns, Attributes...)
    "sphinx.ext.viewcode",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_class_signature = "separated"
html_theme = "alabaster"
html_title = f"funml {release}"
exclude_patterns = ["_build"]

# --- the docstrings are plain text first (help(), an editor), reStructuredText second --------

import re  # noqa: E402

_LITERAL = re.compile(r"(``.*?``)")
_BARS = re.compile(r"(?<!\\)\|")  # |x| is an absolute value, not a substitution
_TRAILING_UNDERSCORE = re.compile(r"(?<=[(\s,])([A-Za-z]\w*_)(?=[,)\s.;]|$)")  # n_components_


def _as_plain_text(app, what, name, obj, options, lines):
    """Escape what reST would read as markup in the numpydoc text, outside ``literals``.

    Runs before napoleon (priority 400 < 500), on the numpydoc source: a parameter's name at
    the start of its line is left alone.
    """
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        parts = _LITERAL.split(line)
        for j in range(0, len(parts), 2):  # the even parts are outside ``...``
            text = _BARS.sub(r"\\|", parts[j])
            text = _TRAILING_UNDERSCORE.sub(
                lambda m, j=j, indent=indent: (
                    m.group(0) if j == 0 and m.start() == indent else m.group(1)[:-1] + r"\_"
                ),
                text,
            )
            parts[j] = text
        lines[i] = "".join(parts)


def _skip_sklearn_routing(app, what, name, obj, skip, options):
    """scikit-learn's generated set_*_request methods are not funml's API."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _as_plain_text, priority=400)
    app.connect("autodoc-skip-member", _skip_sklearn_routing)
