"""Subcommands that list what the tables hold (`models`, `prices`, `changes`) and what other
implementations test against (`vectors`, `schema`, `rules`, `sources`).

    imagepricing models [--as-of DATE] [--json]                what each model accepts and costs
    imagepricing prices [--json]                               every price entry; USD reference rates
    imagepricing changes [--since DATE] [--model M] [--json]   every dated change, with its source
    imagepricing vectors [--out FILE]                          every conformance vector, one JSON file
    imagepricing schema [--endpoint E] [--model M] [--out FILE]  JSON Schema 2020-12 of a request
    imagepricing rules [--out FILE]                            the rules reference (docs/rules.md)
    imagepricing sources [--out FILE] [--json]                 every cited source (docs/sources.md)

`--out -` or no `--out` writes to standard output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imagepricing._clock import today
from imagepricing._rules_doc import render_rules
from imagepricing._sources_doc import render_sources
from imagepricing._tables import ENDPOINTS
from imagepricing.catalog import Catalog, load_catalog
from imagepricing.cli._options import Subcommands, UsageError, add_catalog_options, catalog_from_args, parse_date
from imagepricing.listings import changes_table, models_table, prices_table, usd_rates_table
from imagepricing.schema import endpoint_schema, request_schema
from imagepricing.vectors import VectorError, export_vectors

__all__ = ["add_parser"]


def add_parser(sub: Subcommands) -> None:
    """Register the subcommands on the `imagepricing` parser's subparsers."""
    p_models = sub.add_parser("models", help="what each model accepts and costs, from the tables")
    add_catalog_options(p_models)
    p_models.add_argument("--as-of", type=parse_date, default=None, help="prices as of this date; default today")
    p_models.add_argument("--json", action="store_true")
    p_models.set_defaults(func=_run_models)

    p_prices = sub.add_parser("prices", help="every price book entry with currency, dates and source")
    add_catalog_options(p_prices, provider_choice=False)
    p_prices.add_argument("--json", action="store_true")
    p_prices.set_defaults(func=_run_prices)

    p_changes = sub.add_parser("changes", help="every dated change of the rules, models and prices, with its source")
    add_catalog_options(p_changes, provider_choice=False)
    p_changes.add_argument("--since", type=parse_date, default=None, help="changes on or after this date (YYYY-MM-DD)")
    p_changes.add_argument("--model", default=None, help="only the changes that concern this model")
    p_changes.add_argument("--json", action="store_true")
    p_changes.set_defaults(func=_run_changes)

    p_vectors = sub.add_parser("vectors", help="export every conformance vector as one JSON file")
    p_vectors.add_argument("--out", metavar="FILE", default="-", help="write here instead of standard output")
    p_vectors.set_defaults(func=_run_vectors)

    p_schema = sub.add_parser("schema", help="JSON Schema (2020-12) of an acceptable request")
    p_schema.add_argument("--endpoint", choices=ENDPOINTS, default="generations")
    p_schema.add_argument("--model", help="one model's schema; default: any model serving the endpoint")
    p_schema.add_argument("--data", metavar="DIR", help="load tables from DIR instead of the shipped ones")
    p_schema.add_argument(
        "--as-of", type=parse_date, default=None, help="the rules of this date (YYYY-MM-DD); default today"
    )
    p_schema.add_argument("--out", metavar="FILE", default="-", help="write here instead of standard output")
    p_schema.set_defaults(func=_run_schema)

    p_rules = sub.add_parser("rules", help="every rule with its finding code and source (docs/rules.md)")
    p_rules.add_argument("--data", metavar="DIR", help="load tables from DIR instead of the shipped ones")
    p_rules.add_argument("--out", metavar="FILE", default="-", help="write here instead of standard output")
    p_rules.set_defaults(func=_run_rules)

    p_sources = sub.add_parser("sources", help="every source the rules cite (docs/sources.md)")
    p_sources.add_argument("--data", metavar="DIR", help="load tables from DIR instead of the shipped ones")
    p_sources.add_argument("--json", action="store_true", help="one JSON document instead of Markdown")
    p_sources.add_argument("--out", metavar="FILE", default="-", help="write here instead of standard output")
    p_sources.set_defaults(func=_run_sources)


def _write(out: str, text: str) -> None:
    if out == "-":
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None


def _catalog(args: argparse.Namespace) -> Catalog:
    return load_catalog(args.data) if args.data else load_catalog()


def _run_vectors(args: argparse.Namespace) -> int:
    try:
        export_vectors(args.out)
    except (FileNotFoundError, VectorError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    return 0


def _run_schema(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    try:
        schema = (
            request_schema(args.model, args.endpoint, catalog, as_of=args.as_of)
            if args.model is not None
            else endpoint_schema(args.endpoint, catalog, as_of=args.as_of)
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _write(args.out, json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return 0


def _run_rules(args: argparse.Namespace) -> int:
    _write(args.out, render_rules(_catalog(args)))
    return 0


def _run_sources(args: argparse.Namespace) -> int:
    sources = _catalog(args).sources
    if args.json:
        rows = [
            {
                "id": s.id,
                "publisher": s.publisher,
                "title": s.title,
                "url": s.url,
                "version": s.version,
                "read": s.read.isoformat(),
                "note": s.note,
            }
            for s in sources.values()
        ]
        _write(args.out, json.dumps({"sources": rows}, indent=2, ensure_ascii=False) + "\n")
    else:
        _write(args.out, render_sources(sources))
    return 0


# --------------------------------------------------------------------------------- models


def _run_models(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    day = args.as_of or today()
    rows = models_table(catalog, day)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        sys.stdout.write(f"{row['model']}  ({row['family']})\n")
        for endpoint, info in row["endpoints"].items():
            sys.stdout.write(f"  {endpoint}\n")
            for name, allowed in info["params"].items():
                sys.stdout.write(f"    {name:<19}{allowed}\n")
            if info["dropped"]:
                sys.stdout.write(f"    {'(dropped)':<19}{', '.join(info['dropped'])}\n")
            if info["disputed"]:
                sys.stdout.write(f"    {'(disputed)':<19}{info['disputed']}\n")
            for notice in info["notices"]:
                sys.stdout.write(f"    {'(notice)':<19}{notice}\n")
        for provider, price in row["prices"].items():
            sys.stdout.write(f"  price at {provider:<9}{price}\n")
        sys.stdout.write("\n")
    return 0


# --------------------------------------------------------------------------------- changes


def _run_changes(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    try:
        rows = changes_table(catalog, since=args.since, model=args.model)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    reviewed = catalog.reviewed.isoformat() if catalog.reviewed is not None else None
    if args.json:
        json.dump({"reviewed": reviewed, "changes": rows}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        models = ", ".join(row["models"]) if len(row["models"]) <= 4 else f"{len(row['models'])} models"
        where = f"{row['subject']} ({models})" if row["kind"] in ("rule", "model") else row["subject"]
        sys.stdout.write(f"{row['day']}  {row['kind']:<7} {where}: {row['summary']}\n")
        sys.stdout.write(f"            source: {row['source']}\n")
    if reviewed is not None:
        sys.stdout.write(f"The tables' sources were last reviewed on {reviewed}; later changes are not known.\n")
    return 0


# --------------------------------------------------------------------------------- prices


def _run_prices(args: argparse.Namespace) -> int:
    catalog = catalog_from_args(args)
    rows = prices_table(catalog)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        span = f"{row['effective_from'] or '…'} to {row['effective_until'] or 'now'}"
        keys = " ".join(f"{k}={row[k]}" for k in ("endpoint", "quality", "size", "tier") if row[k])
        amount = f"{row['amount']} {row['currency']}/{row['per']}" if row["amount"] is not None else "unknown"
        mult = " ".join(f"{t}x{m}" for t, m in row["tier_multipliers"].items())
        sys.stdout.write(
            f"{row['provider']:<9} {row['model']:<16} {amount:<22} {keys:<32} {mult:<10} {row['basis']:<9} {span}\n"
            f"          source: {row['source']}\n"
        )
    rates = usd_rates_table(catalog)
    if rates:
        sys.stdout.write("\nUSD reference rates (for USD equivalents; a reference, never what is charged):\n")
    for rate in rates:
        span = f"{rate['effective_from'] or '…'} to {rate['effective_until'] or 'now'}"
        sys.stdout.write(
            f"{rate['provider']:<9} {rate['currency']} at {rate['usd']} USD each  {span}\n"
            + (f"          note: {rate['note']}\n" if rate["note"] else "")
            + f"          source: {rate['source']}\n"
        )
    return 0
