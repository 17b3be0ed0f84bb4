"""What every subcommand shares: the usage error, the options choosing tables and prices, and
reading a date or a JSON file named on the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Protocol

from imagepricing._url_codes import URL_POLICIES
from imagepricing.catalog import Catalog, assemble_catalog
from imagepricing.errors import CatalogError
from imagepricing.pricing import PRICE_BASES

__all__ = [
    "Subcommands",
    "UsageError",
    "add_catalog_options",
    "add_price_basis_option",
    "add_url_policy_option",
    "catalog_from_args",
    "parse_date",
    "price_overrides",
    "read_json",
]


class Subcommands(Protocol):
    """What `add_subparsers()` returns, as the subcommand modules use it."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class UsageError(Exception):
    """Bad arguments or unreadable input: exit status 2 with this message."""


def add_catalog_options(parser: argparse.ArgumentParser, *, provider_choice: bool = True) -> None:
    """The options every subcommand shares for choosing tables and prices."""
    if provider_choice:
        parser.add_argument("--provider", default="acedata", help="price book: acedata (default), xhuoapi, openai, ...")
    parser.add_argument("--data", metavar="DIR", help="load tables from DIR instead of the shipped ones")
    parser.add_argument(
        "--prices", metavar="FILE", action="append", default=[], help="add or replace a price book (TOML)"
    )
    parser.add_argument(
        "--price",
        metavar="PROVIDER:MODEL=AMOUNT",
        action="append",
        default=[],
        help="set a base price, e.g. xhuoapi:gpt-image-2=0.20 (repeatable)",
    )


def add_price_basis_option(parser: argparse.ArgumentParser) -> None:
    """--price-basis, for the subcommands that price (check, estimate)."""
    parser.add_argument(
        "--price-basis", choices=PRICE_BASES, default="charged", help="charged (default) or published prices"
    )


def add_url_policy_option(parser: argparse.ArgumentParser) -> None:
    """--url-policy, for the subcommands that check URLs (check, serve); basic by default, as everywhere."""
    parser.add_argument("--url-policy", choices=URL_POLICIES, default="basic", help="strict adds SSRF-style URL checks")


def price_overrides(args: argparse.Namespace) -> tuple[tuple[str, str, str], ...]:
    """The --price options as (provider, model, amount); UsageError for one not so written."""
    found = []
    for text in args.price:
        target, sep, amount = text.partition("=")
        provider, colon, model = target.partition(":")
        if not sep or not colon:
            raise UsageError(f"--price {text!r}: expected PROVIDER:MODEL=AMOUNT, e.g. xhuoapi:gpt-image-2=0.20")
        found.append((provider, model, amount))
    return tuple(found)


def catalog_from_args(args: argparse.Namespace) -> Catalog:
    """The catalog the options name (catalog.assemble_catalog); UsageError for a bad price or provider."""
    overrides = price_overrides(args)
    try:
        return assemble_catalog(args.data, args.prices, overrides, provider=getattr(args, "provider", None))
    except CatalogError:
        raise  # a bad table or book: main prints every problem
    except ValueError as exc:
        raise UsageError(f"--{exc}" if str(exc).startswith("price ") else str(exc)) from None


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def read_json(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = "standard input" if name == "-" else name
        # json's own message may already end in "at" ("Invalid control character at").
        message = exc.msg.removesuffix(" at")
        raise UsageError(f"{where} is not JSON: {message} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise UsageError(f"{name} is nested too deeply to read") from None
    except ValueError:
        # json.loads refuses integers of over 4,300 digits (CPython's int/str conversion limit)
        # with a plain ValueError, after JSONDecodeError (its subclass) has been ruled out.
        raise UsageError(f"{name} holds a number too large to read (more than 4,300 digits)") from None
