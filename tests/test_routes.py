"""Endpoint and provider from a URL, a path or a host (imagepricing.routes), and the guard's exception."""

from __future__ import annotations

import pytest

import imagepricing
from imagepricing.routes import Route, endpoint_from_path, provider_from_host, route


class TestEndpointFromPath:
    @pytest.mark.parametrize(
        ("path", "endpoint"),
        [
            ("/v1/images/generations", "generations"),
            ("/openai/images/generations", "generations"),
            ("/v1/openai/images/edits", "edits"),
            ("/v1/v1/images/edits", "edits"),  # as XHuoAPI's edits page writes it
            ("/openai/images/edits/", "edits"),
            ("/images/edits?trace=1#x", "edits"),
            ("/v1/images/variations", None),
            ("/v1/chat/completions", None),
            ("/v1/images/generationsx", None),
            ("/v1/imagesx/generations", None),
            ("/v1/images/generations/extra", None),
            ("/v1/Images/Generations", None),
            ("", None),
            ("/" + "a/" * 5000 + "images/edits", None),
        ],
    )
    def test_paths(self, path: str, endpoint: str | None) -> None:
        assert endpoint_from_path(path) == endpoint

    def test_not_a_string(self) -> None:
        assert endpoint_from_path(b"/v1/images/edits") is None  # type: ignore[arg-type]


class TestProviderFromHost:
    @pytest.mark.parametrize(
        ("host", "provider"),
        [
            ("api.acedata.cloud", "acedata"),
            ("API.AceData.Cloud", "acedata"),
            ("api.acedata.cloud.", "acedata"),
            ("api.xhuoapi.ai:443", "xhuoapi"),
            ("user@api.openai.com", "openai"),
            ("api.acedata.cloud.evil.com", None),
            ("acedata.cloud", None),
            ("[::1]:8080", None),
            ("", None),
        ],
    )
    def test_hosts(self, host: str, provider: str | None) -> None:
        assert provider_from_host(host) == provider


class TestRoute:
    def test_full_urls(self) -> None:
        assert route("https://api.acedata.cloud/openai/images/generations") == Route("generations", "acedata")
        assert route("https://api.xhuoapi.ai/v1/openai/images/edits") == Route("edits", "xhuoapi")
        assert route("https://api.openai.com/v1/images/generations") == Route("generations", "openai")
        assert route("http://127.0.0.1:8080/v1/images/edits") == Route("edits", None)

    def test_not_urls(self) -> None:
        assert route("ftp://api.acedata.cloud/v1/images/edits") == Route(None, None)
        assert route("https://[::1/v1/images/edits") == Route(None, None)
        assert route("generations") == Route(None, None)


class TestRequestRejected:
    def test_lists_every_error_and_keeps_the_report(self) -> None:
        report = imagepricing.check({"model": "dall-e-3", "prompt": "", "n": 2, "size": "9x9"})
        assert len(report.errors) >= 2
        with pytest.raises(imagepricing.RequestRejected) as caught:
            report.raise_for_errors()
        rejected = caught.value
        assert isinstance(rejected, ValueError)
        assert rejected.report is report
        assert rejected.findings == report.errors
        for finding in report.errors:
            assert f"{finding.code} ({finding.param}): {finding.message}" in str(rejected)

    def test_ok_report_is_returned(self) -> None:
        report = imagepricing.check({"model": "nano-banana", "prompt": "p"})
        assert report.raise_for_errors() is report


class TestHostsInPriceBooks:
    def _copy(self, tmp_path: object) -> object:
        import shutil
        from pathlib import Path

        from imagepricing.catalog import shipped_data_dir

        target = Path(str(tmp_path)) / "data"
        shutil.copytree(shipped_data_dir(), target)
        return target

    def test_a_host_claimed_twice_fails_at_load(self, tmp_path: object) -> None:
        from pathlib import Path

        data = Path(str(self._copy(tmp_path)))
        book = data / "prices" / "xhuoapi.toml"
        book.write_text(book.read_text().replace('hosts = ["api.xhuoapi.ai"]', 'hosts = ["api.acedata.cloud"]'))
        with pytest.raises(imagepricing.CatalogError, match=r"prices/xhuoapi.toml: \$.hosts\[0\]: 'api.acedata.cloud'"):
            imagepricing.load_catalog(data)

    @pytest.mark.parametrize("host", ["API.xhuoapi.ai", "api.xhuoapi.ai:443", "api.xhuoapi.ai.", "https://x.ai", ""])
    def test_a_host_not_written_plainly_fails_at_load(self, tmp_path: object, host: str) -> None:
        from pathlib import Path

        data = Path(str(self._copy(tmp_path)))
        book = data / "prices" / "xhuoapi.toml"
        book.write_text(book.read_text().replace('hosts = ["api.xhuoapi.ai"]', f'hosts = ["{host}"]'))
        with pytest.raises(imagepricing.CatalogError, match=r"prices/xhuoapi.toml: \$.hosts\[0\]: .* lowercase DNS"):
            imagepricing.load_catalog(data)
