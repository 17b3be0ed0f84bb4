"""Loading the tables: the shipped ones load and cross-check; a bad table fails whole, naming the
file and the path, with every problem listed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from imagepricing import CatalogError, check, default_catalog, load_catalog, load_price_book
from imagepricing.catalog import shipped_data_dir

REPO_DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(shipped_data_dir(), target)
    return target


def edit_file(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test set-up: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(directory: Path) -> tuple[str, ...]:
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return info.value.problems


class TestShippedTables:
    def test_load_and_cover_every_seed_model(self) -> None:
        catalog = load_catalog()
        seed_models = {
            "dall-e-2",
            "dall-e-3",
            "gpt-image-1",
            "gpt-image-1.5",
            "gpt-image-2",
            "nano-banana",
            "nano-banana-2",
            "nano-banana-pro",
        }
        assert seed_models <= set(catalog.models)
        assert {"acedata", "xhuoapi"} <= set(catalog.providers)

    def test_default_catalog_is_loaded_once(self) -> None:
        assert default_catalog() is default_catalog()

    def test_the_checkout_data_is_the_data_that_loads(self) -> None:
        if not REPO_DATA.is_dir():
            pytest.skip("running from an installed wheel without the checkout")
        assert load_catalog(REPO_DATA) == load_catalog()

    def test_every_model_and_price_has_a_source(self) -> None:
        catalog = load_catalog()
        for model in catalog.models.values():
            assert model.source
            for capability in model.endpoints.values():
                assert all(spec.source for spec in capability.params.values())
        for book in catalog.price_books.values():
            assert all(entry.source for entry in book.entries)

    def test_catalog_is_immutable(self) -> None:
        catalog = load_catalog()
        with pytest.raises(AttributeError):
            catalog.models = {}  # type: ignore[misc]
        with pytest.raises(TypeError):
            catalog.models["x"] = catalog.models["dall-e-2"]  # type: ignore[index]


Edit = Callable[[Path], None]


def _float_price(d: Path) -> None:
    edit_file(d / "prices" / "acedata.toml", 'amount = "0.14"', "amount = 0.14")


def _negative_price(d: Path) -> None:
    edit_file(d / "prices" / "acedata.toml", 'amount = "0.14"', 'amount = "-0.14"')


def _priced_unknown_model(d: Path) -> None:
    edit_file(d / "prices" / "xhuoapi.toml", 'model = "nano-banana"', 'model = "nano-bananas"')


def _unknown_size_set(d: Path) -> None:
    edit_file(d / "models.toml", 'sizes = "dall-e-3"', 'sizes = "dall-e-9"')


def _size_not_wxh(d: Path) -> None:
    edit_file(d / "sizes.toml", '"256x256", "512x512"', '"256x256", "512 x 512"')


def _unknown_key(d: Path) -> None:
    edit_file(d / "models.toml", 'family = "dall-e"', 'family = "dall-e"\ncolour = "blue"')


def _string_limit(d: Path) -> None:
    edit_file(d / "sizes.toml", "max_side = 3840", 'max_side = "3840"')


def _boolean_as_int(d: Path) -> None:
    edit_file(d / "sizes.toml", "multiple_of = 16", "multiple_of = true")


def _duplicate_model(d: Path) -> None:
    with (d / "models.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[models."dall-e-2"]\nfamily = "x"\nsource = "x"\n')


def _missing_file(d: Path) -> None:
    (d / "sizes.toml").unlink()


def _inherit_cycle(d: Path) -> None:
    edit_file(
        d / "models.toml",
        'inherits = "gpt-image-1"\nfamily = "gpt-image"\nsource = "acedata-api-reference',
        'inherits = "gpt-image-1.5"\nfamily = "gpt-image"\nsource = "acedata-api-reference',
    )
    edit_file(
        d / "models.toml",
        '[models."gpt-image-1"]\nfamily',
        '[models."gpt-image-1"]\ninherits = "gpt-image-1.5"\nfamily',
    )


def _overlapping_prices(d: Path) -> None:
    with (d / "prices" / "acedata.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[prices]]\nmodel = "nano-banana"\nper = "request"\namount = "0.15"\nsource = "x"\n')


def _tier_that_does_not_exist(d: Path) -> None:
    edit_file(d / "prices" / "xhuoapi.toml", "tier_multipliers = { other =", 'tier_multipliers = { "2k" =')


def _float_multiplier(d: Path) -> None:
    edit_file(
        d / "prices" / "xhuoapi.toml", 'tier_multipliers = { other = "1.5" }', "tier_multipliers = { other = 1.5 }"
    )


def _preset_breaking_constraints(d: Path) -> None:
    edit_file(d / "sizes.toml", '"2048x2048", "2048x1536"', '"2048x2050", "2048x1536"')


class TestBadTables:
    """A bad table fails at load, with the file and the path, and is never half-used."""

    @pytest.mark.parametrize(
        ("corrupt", "expected"),
        [
            (_float_price, "prices/acedata.toml: $.prices[0].amount: expected a decimal string"),
            (_negative_price, "prices/acedata.toml: $.prices[0].amount: expected a non-negative decimal string"),
            (_priced_unknown_model, "prices/xhuoapi.toml: $.prices[0].model: 'nano-bananas' is not a model"),
            (
                _unknown_size_set,
                "models.toml: $.models.dall-e-3.endpoints.generations.params.size.sizes: unknown size set",
            ),
            (_size_not_wxh, "sizes.toml: $.size_sets.dall-e-2.sizes[1]: '512 x 512' is not WIDTHxHEIGHT"),
            (_unknown_key, "models.toml: $.models['dall-e-2']: extra fields found (colour)"),
            (_string_limit, "sizes.toml: $.constraints['gpt-image-2'].max_side: expected an integer"),
            (
                _boolean_as_int,
                "sizes.toml: $.constraints['gpt-image-2'].multiple_of: expected an integer, got the boolean true",
            ),
            (_duplicate_model, "models.toml: not valid TOML"),
            (_missing_file, "sizes.toml: file missing"),
            (_inherit_cycle, "inherits: cycle"),
            (_overlapping_prices, "overlaps another charged entry for nano-banana"),
            (
                _tier_that_does_not_exist,
                "prices/xhuoapi.toml: $.prices[3].tier_multipliers: '2k' is not a tier of gpt-image-2",
            ),
            (
                _float_multiplier,
                "prices/xhuoapi.toml: $.prices[3].tier_multipliers['other']: expected a decimal string",
            ),
            (_preset_breaking_constraints, "preset 2048x2050 breaks the constraints"),
        ],
    )
    def test_each_corruption_names_file_and_path(self, data_copy: Path, corrupt: Edit, expected: str) -> None:
        corrupt(data_copy)
        problems = problems_of(data_copy)
        assert any(expected in p for p in problems), problems

    def test_every_problem_is_listed_not_just_the_first(self, data_copy: Path) -> None:
        _float_price(data_copy)
        _unknown_key(data_copy)
        _size_not_wxh(data_copy)
        problems = problems_of(data_copy)
        assert len(problems) >= 3
        assert {p.split(":")[0] for p in problems} >= {"prices/acedata.toml", "models.toml", "sizes.toml"}

    def test_a_failed_load_leaves_the_default_catalog_untouched(self, data_copy: Path) -> None:
        before = check({"model": "nano-banana", "prompt": "p"}).cost
        _float_price(data_copy)
        with pytest.raises(CatalogError):
            load_catalog(data_copy)
        assert check({"model": "nano-banana", "prompt": "p"}).cost == before

    def test_not_a_directory(self, tmp_path: Path) -> None:
        with pytest.raises(CatalogError, match="not a directory"):
            load_catalog(tmp_path / "nope")

    def test_error_message_lists_problems(self, data_copy: Path) -> None:
        _float_price(data_copy)
        with pytest.raises(CatalogError) as info:
            load_catalog(data_copy)
        assert "invalid data tables (1 problem)" in str(info.value)


class TestUserPriceBooks:
    def test_a_user_book_replaces_the_provider_book(self, tmp_path: Path) -> None:
        path = tmp_path / "mine.toml"
        path.write_text(
            'schema_version = 1\nprovider = "xhuoapi"\nname = "my XHuoAPI prices"\ncurrency = "credits"\n'
            'source = "invoice"\n[[prices]]\nmodel = "gpt-image-2"\namount = "0.2"\n'
            'tier_multipliers = { other = "1.5" }\nsource = "my invoice"\n',
            encoding="utf-8",
        )
        catalog = load_catalog().with_price_book(load_price_book(path))
        report = check(
            {"model": "gpt-image-2", "prompt": "p", "size": "2048x2048"}, provider="xhuoapi", catalog=catalog
        )
        assert str(report.cost) == "0.30"

    def test_a_bad_user_book_fails_with_its_path(self, tmp_path: Path) -> None:
        path = tmp_path / "mine.toml"
        path.write_text(
            'schema_version = 1\nprovider = "x"\nname = "x"\ncurrency = "c"\nsource = "s"\n'
            '[[prices]]\nmodel = "gpt-9"\nsource = "s"\n',
            encoding="utf-8",
        )
        with pytest.raises(CatalogError, match=r"mine\.toml: \$\.prices\[0\]\.model"):
            load_price_book(path)
