"""Options: how requests are checked and priced, validated in one place.

Every entry point takes the same options (`endpoint`, `provider`, `catalog`, `as_of`,
`price_basis`, `url_policy`): `check`, `Checker`, `estimate`, the per-request pricer, the Arrow
kernel, the guards and the service. Each builds one `Options` from its arguments, which says
exactly which option is wrong (ValueError, TypeError for a wrong type), and passes it down; the
single-option checks (`known_endpoint`, `known_provider`) are for the per-call arguments of a
`Checker`.

>>> from imagepricing import default_catalog
>>> options = Options(default_catalog(), provider="xhuoapi")
>>> options.endpoint, options.provider, options.price_basis, options.url_policy
('generations', 'xhuoapi', 'charged', 'basic')
>>> Options(default_catalog(), provider="nobody")
Traceback (most recent call last):
...
ValueError: unknown provider 'nobody'; expected one of acedata, openai, xhuoapi
"""

from __future__ import annotations

import datetime as dt

import attrs

from imagepricing._tables import ENDPOINTS
from imagepricing._url_codes import URL_POLICIES
from imagepricing.capabilities import Catalog
from imagepricing.pricing import PRICE_BASES, PriceBasis

__all__ = ["Options", "known_endpoint", "known_price_basis", "known_provider", "known_url_policy"]


def known_endpoint(endpoint: object) -> str:
    """`endpoint`, or ValueError naming the endpoints."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    assert isinstance(endpoint, str)
    return endpoint


def known_provider(provider: object, catalog: Catalog) -> str:
    """`provider`, or ValueError naming the providers of `catalog`."""
    if type(provider) is not str or provider not in catalog.price_books:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(catalog.price_books)}")
    return provider


def known_price_basis(price_basis: object) -> PriceBasis:
    for basis in PRICE_BASES:
        if price_basis == basis:
            return basis
    raise ValueError(f"unknown price_basis {price_basis!r}; expected one of {', '.join(PRICE_BASES)}")


def known_url_policy(url_policy: object) -> str:
    if url_policy not in URL_POLICIES:
        raise ValueError(f"unknown url_policy {url_policy!r}; expected one of {', '.join(URL_POLICIES)}")
    assert isinstance(url_policy, str)
    return url_policy


def _date(_: object, attribute: attrs.Attribute[dt.date | None], value: object) -> None:
    if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
        raise TypeError(f"{attribute.name} must be a date, not {type(value).__name__}")


@attrs.frozen
class Options:
    """The options of a check, an estimate or a batch, each known to be valid.

    `as_of` is the day of requests that carry none (None: today, UTC, read when used).
    """

    catalog: Catalog
    endpoint: str = attrs.field(default="generations", validator=lambda _, __, v: known_endpoint(v))
    provider: str = attrs.field(default="acedata", validator=lambda o, _, v: known_provider(v, o.catalog))
    as_of: dt.date | None = attrs.field(default=None, validator=_date)
    price_basis: PriceBasis = attrs.field(default="charged", validator=lambda _, __, v: known_price_basis(v))
    url_policy: str = attrs.field(default="basic", validator=lambda _, __, v: known_url_policy(v))
