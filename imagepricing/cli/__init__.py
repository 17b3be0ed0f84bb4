"""The `imagepricing` command line (`main`); see `imagepricing.cli._main` for the commands."""

from __future__ import annotations

from imagepricing.cli._main import main

__all__ = ["main"]
