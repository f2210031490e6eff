"""opengov: open a municipality's data without leaking what the law keeps secret."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opengov")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
