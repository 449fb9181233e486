"""The workbench version, single-sourced for pyproject.toml and the code."""

__version__ = "0.1.0"
