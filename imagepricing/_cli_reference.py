"""Subcommands for other implementations: `vectors`, `schema` and `rules`.

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
from typing import Any

from imagepricing._rules_doc import render_rules
from imagepricing._sources_doc import render_sources
from imagepricing._tables import ENDPOINTS
from imagepricing.catalog import Catalog, load_catalog
from imagepricing.cli import UsageError, parse_date
from imagepricing.schema import endpoint_schema, request_schema
from imagepricing.vectors import VectorError, export_vectors

__all__ = ["add_parser"]


def add_parser(sub: Any) -> None:
    """Register the subcommands on the `imagepricing` parser's subparsers."""
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
