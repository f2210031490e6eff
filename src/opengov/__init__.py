"""opengov: open a municipality's data without leaking what the law keeps secret."""

# The package's version (pyproject.toml reads it from here). A constant, not
# importlib.metadata: that import alone is a tenth of an unchanged re-publish.
__version__ = "0.1.0"

__all__ = ["__version__"]
