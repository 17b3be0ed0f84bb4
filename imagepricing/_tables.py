"""The endpoints every table and rule speaks of.

The shapes of the table files themselves (and cattrs, which reads them) are in `_table_shapes`,
imported only when tables are validated: most processes load the catalog's compiled form
(`_compiled_tables`) and never need them, and importing them costs more than the whole fast path.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; docs/startup.md)
if TYPE_CHECKING:
    from typing import Any, Literal

    Endpoint = Literal["generations", "edits"]

__all__ = ["ENDPOINTS", "Endpoint"]

ENDPOINTS: tuple[Endpoint, ...] = ("generations", "edits")


def __getattr__(name: str) -> Any:
    # The table shapes (cattrs) need the real Literal; it is built on first use, so that loading
    # the compiled tables imports no typing.
    if name == "Endpoint":
        from typing import Literal  # noqa: PLC0415

        return Literal["generations", "edits"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
