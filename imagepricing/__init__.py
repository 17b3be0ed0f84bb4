"""imagepricing: pre-flight checks and exact prices for OpenAI-compatible image API requests.

>>> import imagepricing
>>> report = imagepricing.check({"model": "gpt-image-2", "prompt": "a fox", "size": "2048x2048"},
...                             provider="xhuoapi",
...                             catalog=imagepricing.load_catalog().with_price("xhuoapi", "gpt-image-2", "0.20"))
>>> report.ok, report.tier, report.multiplier, report.cost
(True, 'other', Decimal('1.5'), Decimal('0.300'))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs.exceptions import FrozenInstanceError

from imagepricing._version import __version__
from imagepricing.catalog import Catalog, default_catalog, load_catalog, load_price_book
from imagepricing.engine import Checker, check
from imagepricing.errors import CatalogError
from imagepricing.findings import CODES, Finding
from imagepricing.pricing import PriceBook, PriceEntry
from imagepricing.report import Report, RequestRejected

__all__ = [
    "CODES",
    "Catalog",
    "CatalogError",
    "Checker",
    "Estimate",
    "Finding",
    "FrozenInstanceError",
    "GroupTotals",
    "PriceBook",
    "PriceEntry",
    "Report",
    "RequestRejected",
    "__version__",
    "check",
    "default_catalog",
    "estimate",
    "load_catalog",
    "load_price_book",
]


if TYPE_CHECKING:
    from imagepricing.estimation import Estimate, GroupTotals, estimate

# Log estimates pull in file, gzip and decimal-context machinery that a service checking single
# requests never needs; they load on first use, so `import imagepricing` stays quick.
_LAZY = {"estimate", "Estimate", "GroupTotals"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from imagepricing import estimation  # noqa: PLC0415

        return getattr(estimation, name)
    raise AttributeError(f"module 'imagepricing' has no attribute {name!r}")
