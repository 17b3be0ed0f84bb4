"""Table edits that used to load silently and change behaviour (issue 10, item 7).

A choice value with a trailing space or a look-alike letter, an empty choice, a model id with a
trailing or zero-width space, or a price file saved as `.TOML` each loaded without complaint and
quietly changed what `check` says (a value no request can match, a provider gone). Each must now
fail at load, naming the file and the path.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from imagepricing import CatalogError, load_catalog, load_price_book
from imagepricing.catalog import shipped_data_dir

Edit = Callable[[Path], None]

GPT1_QUALITY = (
    'quality = { values = ["auto", "high", "medium", "low"], default = "auto",'
    ' source = "acedata-api-reference: GPT image model quality options" }'
)
GPT1_FORMAT = 'output_format = { values = ["png", "jpeg", "webp"], default = "png"'
NANO_PRO = '[models."nano-banana-pro"]'


def replace(rel: str, old: str, new: str, count: int = 1) -> Edit:
    def apply(directory: Path) -> None:
        path = directory / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"test set-up: {old!r} is no longer in {rel}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return apply


def rename(rel: str, to: str) -> Edit:
    def apply(directory: Path) -> None:
        (directory / rel).rename(directory / to)

    return apply


def model_renamed(new_id: str) -> Edit:
    """nano-banana-pro renamed everywhere it appears (models and every price book)."""

    def apply(directory: Path) -> None:
        for path in [directory / "models.toml", *sorted((directory / "prices").glob("*.toml"))]:
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace('"nano-banana-pro"', f'"{new_id}"'), encoding="utf-8")

    return apply


def new_model(model_id: str) -> Edit:
    block = (
        f'\n[models."{model_id}"]\ninherits = "nano-banana"\nfamily = "nano-banana"\n'
        'source = "acedata-api-reference: a test"\n'
    )

    def apply(directory: Path) -> None:
        with (directory / "models.toml").open("a", encoding="utf-8") as handle:
            handle.write(block)

    return apply


def quality(values: str, default: str = "auto") -> Edit:
    new = GPT1_QUALITY.replace('["auto", "high", "medium", "low"], default = "auto"', f"{values}, default = {default}")
    return replace("models.toml", GPT1_QUALITY, new)


CASES: list[tuple[str, Edit, str]] = [
    (
        "choice value with a trailing space",
        quality('["auto", "high ", "medium", "low"]', '"auto"'),
        "models.toml: $.models.gpt-image-1.endpoints.generations.params.quality.values[1]",
    ),
    ("choice value with a leading space", quality('["auto", " high", "medium", "low"]', '"auto"'), "quality.values[1]"),
    (
        "choice value with a Cyrillic i",
        quality('["auto", "h\u0456gh", "medium", "low"]', '"auto"'),
        "quality.values[1]",
    ),
    ("choice value with a Greek o", quality('["auto", "high", "medium", "l\u03bfw"]', '"auto"'), "quality.values[3]"),
    ("choice value in full width", quality('["auto", "\uff48igh", "medium", "low"]', '"auto"'), "quality.values[1]"),
    ("empty choice value", quality('["auto", "", "medium", "low"]', '"auto"'), "quality.values[1]"),
    ("blank choice value", quality('["auto", " ", "medium", "low"]', '"auto"'), "quality.values[1]"),
    (
        "choice value with a zero-width space",
        quality('["auto", "high\u200b", "medium", "low"]', '"auto"'),
        "quality.values[1]",
    ),
    (
        "choice value with a soft hyphen",
        quality('["auto", "hi\u00adgh", "medium", "low"]', '"auto"'),
        "quality.values[1]",
    ),
    ("choice value with a newline", quality('["auto", "high\\n", "medium", "low"]', '"auto"'), "quality.values[1]"),
    ("choice value with a tab", quality('["auto", "hi\\tgh", "medium", "low"]', '"auto"'), "quality.values[1]"),
    ("choice value with NBSP", quality('["auto", "high\u00a0", "medium", "low"]', '"auto"'), "quality.values[1]"),
    (
        "choice value with a variation selector",
        quality('["auto", "high\ufe0f", "medium", "low"]', '"auto"'),
        "quality.values[1]",
    ),
    (
        "choice default with a trailing space",
        quality('["auto", "high", "medium", "low", "auto "]', '"auto "'),
        "quality.values[4]",
    ),
    (
        "choice value in upper case beside lower case",
        quality('["auto", "high", "HIGH", "low"]', '"auto"'),
        "quality.values: lists a value twice in different case",
    ),
    (
        "output_format with a Cyrillic p",
        replace(
            "models.toml",
            GPT1_FORMAT,
            GPT1_FORMAT.replace('"png", "jpeg"', '"\u0440ng", "jpeg"').replace(
                'default = "png"', 'default = "\u0440ng"'
            ),
        ),
        "output_format.values[0]",
    ),
    ("model id with a trailing space", model_renamed("nano-banana-pro "), "models.toml: $.models.nano-banana-pro "),
    (
        "model id with a zero-width space",
        model_renamed("nano-banana-pro\u200b"),
        "models.toml: $.models.nano-banana-pro\\u200b",
    ),
    ("model id with a Cyrillic a", model_renamed("n\u0430no-banana-pro"), "models.toml: $.models.n\u0430no-banana-pro"),
    ("model id with a leading space", model_renamed(" nano-banana-pro"), "models.toml: $.models. nano-banana-pro"),
    ("model id with a BOM", model_renamed("\ufeffnano-banana-pro"), "models.toml: $.models.\\ufeffnano-banana-pro"),
    ("model id with NBSP", model_renamed("nano-banana\u00a0pro"), "models.toml: $.models.nano-banana\\xa0pro"),
    ("empty model id", new_model(""), "models.toml: $.models."),
    ("new model with a zero-width joiner", new_model("nano\u200dbanana"), "models.toml: $.models.nano\\u200dbanana"),
    ("new model with a trailing tab", new_model("nano-x\\t"), "models.toml: $.models.nano-x\\t"),
    ("price book saved as .TOML", rename("prices/xhuoapi.toml", "prices/xhuoapi.TOML"), "prices/xhuoapi.TOML"),
    ("price book saved as .Toml", rename("prices/openai.toml", "prices/openai.Toml"), "prices/openai.Toml"),
    ("price book saved as .toml.bak", rename("prices/openai.toml", "prices/openai.toml.bak"), "prices/openai.toml.bak"),
    ("price book without extension", rename("prices/openai.toml", "prices/openai"), "prices/openai"),
    ("table saved as .TOML", rename("sizes.toml", "sizes.TOML"), "sizes.TOML"),
]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(shipped_data_dir(), target)
    return target


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in CASES], ids=[n for n, _, _ in CASES])
def test_edit_fails_at_load_with_file_and_path(data_copy: Path, edit: Edit, expected: str) -> None:
    edit(data_copy)
    with pytest.raises(CatalogError) as info:
        load_catalog(data_copy)
    problems = info.value.problems
    assert any(expected in problem for problem in problems), problems
    for problem in problems:
        assert problem.isprintable(), problem  # the look-alike is shown escaped, never raw


def test_the_copy_loads_untouched(data_copy: Path) -> None:
    assert load_catalog(data_copy).models.keys() == load_catalog().models.keys()


def test_hidden_editor_files_in_prices_are_ignored(data_copy: Path) -> None:
    # Editors leave swap files next to what they edit; they are not price books.
    (data_copy / "prices" / ".xhuoapi.toml.swp").write_bytes(b"\x00binary")
    assert "xhuoapi" in load_catalog(data_copy).price_books


def test_user_price_book_with_a_lookalike_quality(tmp_path: Path) -> None:
    book = tmp_path / "mine.toml"
    book.write_text(
        'schema_version = 1\nprovider = "mine"\nname = "Mine"\ncurrency = "USD"\nsource = "me"\n'
        '[[prices]]\nmodel = "gpt-image-1"\nquality = "h\u0456gh"\namount = "1"\nsource = "me"\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as info:
        load_price_book(book)
    assert any("$.prices[0].quality" in p for p in info.value.problems), info.value.problems
