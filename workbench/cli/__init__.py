"""The ``workbench`` command line (``workbench --help``)."""

from ._main import main

__all__ = ["main"]
