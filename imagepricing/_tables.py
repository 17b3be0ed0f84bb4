"""The endpoints every table and rule speaks of.

The shapes of the table files themselves (and cattrs, which reads them) are in `_table_shapes`,
imported only when tables are validated: most processes load the catalog's compiled form
(`_compiled_tables`) and never need them, and importing them costs more than the whole fast path.
"""

from __future__ import annotations

from typing import Literal

Endpoint = Literal["generations", "edits"]

__all__ = ["ENDPOINTS", "Endpoint"]

ENDPOINTS: tuple[Endpoint, ...] = ("generations", "edits")
