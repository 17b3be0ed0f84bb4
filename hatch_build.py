"""Wheel build hook: ship the compiled form of the tables inside the wheel (docs/startup.md).

The tables are validated here, at build time (a bad table fails the build, with file and path),
and their compiled form is written into the wheel as imagepricing/_compiled_catalog.json, keyed by
the same digest the loader computes. Every wheel, and so every real install (`pip install .` from
an sdist builds one), starts without tomllib and cattrs from its very first process. Editable
installs are left alone: they have no compiled form and validate the tables in each process (a
developer's or a test's), which also follows every edit. There is no per-user cache.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompiledTablesHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        sys.path.insert(0, self.root)
        try:
            from imagepricing import _compile_tables, _compiled_tables  # noqa: PLC0415
        finally:
            sys.path.remove(self.root)
        tables = Path(self.root) / "data"
        validated = _compile_tables.compile_tables(tables)  # a bad table fails the build, with file and path
        self._workdir = tempfile.mkdtemp(prefix="imagepricing-build-")
        compiled = Path(self._workdir) / _compiled_tables.PACKAGED_NAME
        compiled.write_text(_compiled_tables.encode(validated, _compiled_tables.tables_digest(tables)), "utf-8")
        build_data["force_include"][str(compiled)] = f"imagepricing/{_compiled_tables.PACKAGED_NAME}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        workdir = getattr(self, "_workdir", None)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
