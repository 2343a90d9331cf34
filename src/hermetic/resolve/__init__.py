"""Solving: conda packages with rattler, PyPI packages with uv on top."""
