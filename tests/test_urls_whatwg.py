"""Hosts judged as a WHATWG URL parser reads them (issue 10, items 1 and 2).

Browsers, node's `new URL()` and curl map a host through UTS #46: they drop variation selectors,
the combining grapheme joiner and other ignorable code points, and map full-width and
compatibility forms. `strict` must judge that mapped host. A differential test against a real
WHATWG parser (ada, via the `ada-url` package, a test-only dependency) checks that every hostile
URL it maps to an internal address or name is flagged.
"""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path

import pytest

from imagepricing import check
from imagepricing._uts46 import map_host, status_of
from imagepricing.urls import url_problems

INTERNAL_CODES = frozenset(
    {
        "url_loopback",
        "url_private",
        "url_link_local",
        "url_metadata",
        "url_unspecified",
        "url_reserved",
        "url_single_label_host",
        "url_internal_host",
    }
)
TARGETS = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "100.100.100.200",
    "127.1",
    "metadata.google.internal",
    "a.localhost",
    "x.internal",
    "192.168.1.1",
    "0.0.0.0",
    "localhost",
    "kubernetes.default.svc",
]


def codes(url: str, policy: str = "strict") -> set[str]:
    return {p.code for p in url_problems(url, policy=policy)}


def table_rows() -> list[tuple[int, int, str]]:
    lines = [
        line.split()
        for line in (Path(__file__).parent.parent / "imagepricing" / "_uts46.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    starts = [int(line[0], 16) for line in lines] + [0x110000]
    return [(starts[i], starts[i + 1], line[1]) for i, line in enumerate(lines)]


IGNORED = [cp for start, end, status in table_rows() if status == "I" for cp in range(start, end)]


class TestIssueExamples:
    def test_variation_selector_after_metadata_address(self) -> None:
        found = codes("https://169.254.169.254\ufe0f/latest/meta-data/")
        assert {"url_metadata", "url_link_local", "url_numeric_host_obfuscated"} <= found

    def test_as_an_edits_image_under_strict(self) -> None:
        report = check(
            {"model": "gpt-image-1", "prompt": "p", "image": "https://169.254.169.254\ufe0f/latest/meta-data/"},
            endpoint="edits",
            url_policy="strict",
        )
        assert not report.ok
        assert {"url_metadata", "url_link_local"} <= {f.code for f in report.errors}

    def test_there_are_hundreds_of_ignored_code_points(self) -> None:
        assert len(IGNORED) >= 261
        for cp in (0xFE0F, 0xFE00, 0xE0100, 0xE01EF, 0x034F, 0x180B, 0x180C, 0x180D, 0x180F, 0x00AD, 0x200B):
            assert cp in IGNORED, hex(cp)

    @pytest.mark.parametrize("target", TARGETS)
    def test_every_ignored_code_point_after_every_target(self, target: str) -> None:
        plain = codes(f"https://{target}/") & INTERNAL_CODES
        assert plain
        for cp in IGNORED:
            found = codes(f"https://{target}{chr(cp)}/")
            assert found, (target, hex(cp))
            if "url_malformed" not in found:
                assert plain <= found, (target, hex(cp), found)

    @pytest.mark.parametrize("target", ["169.254.169.254", "metadata.google.internal", "a.localhost"])
    def test_ignored_code_points_inside_labels(self, target: str) -> None:
        for cp in IGNORED[::7]:
            for i in range(1, len(target)):
                url = f"https://{target[:i]}{chr(cp)}{target[i:]}/"
                assert codes(url), (url.encode("unicode_escape"),)

    def test_a_name_mapped_differently_from_its_written_form_is_suspicious(self) -> None:
        assert "url_idn_confusable" in codes("https://example\u034f.com/")
        assert "url_idn_confusable" in codes("https://exam\ufe0fple.com/")
        assert "url_idn_confusable" in codes("https://ｅｘａｍｐｌｅ.com/")

    def test_legitimate_idn_is_still_accepted(self) -> None:
        for host in ["münchen.de", "MÜNCHEN.de", "例子.中国", "рус.рф", "bücher.example"]:
            assert codes(f"https://{host}/") == set(), host

    def test_basic_policy_accepts_what_browsers_fetch(self) -> None:
        # basic judges usability, not safety: the mapped host is a fine public name.
        assert codes("https://example.com\ufe0f/a.png", "basic") == set()

    def test_disallowed_code_point_is_invalid_idn(self) -> None:
        assert "url_idn_invalid" in codes("https://exa\ufffdmple.com/")


class TestInternalNames:
    @pytest.mark.parametrize(
        ("host", "code"),
        [
            ("kubernetes.default.svc", "url_internal_host"),
            ("kubernetes.default.svc.cluster.local", "url_internal_host"),
            ("kubernetes.default", "url_internal_host"),
            ("redis.prod.svc", "url_internal_host"),
            ("redis.prod.svc.cluster.local", "url_internal_host"),
            ("vault.service.consul", "url_internal_host"),
            ("web.service.dc1.consul", "url_internal_host"),
            ("kubernetes", "url_single_label_host"),
            ("metadata.tencentyun.com", "url_metadata"),
            ("168.63.129.16", "url_metadata"),
            ("169.254.0.23", "url_metadata"),
            ("127.0.0.1.nip.io", "url_loopback"),
            ("app.127.0.0.1.nip.io", "url_loopback"),
            ("10-0-0-1.sslip.io", "url_private"),
            ("app-10-0-0-1.nip.io", "url_private"),
            ("magic-127-0-0-1.nip.io", "url_loopback"),
            ("169.254.169.254.nip.io", "url_metadata"),
            ("169-254-169-254.sslip.io", "url_link_local"),
            ("app-7f000001.nip.io", "url_loopback"),
            ("0a000001.nip.io", "url_private"),
            ("--1.sslip.io", "url_loopback"),
            ("fe80--1.sslip.io", "url_link_local"),
            ("192.168.0.1.xip.io", "url_private"),
            ("127-0-0-1.traefik.me", "url_loopback"),
            ("localtest.me", "url_loopback"),
            ("app.localtest.me", "url_loopback"),
            ("lvh.me", "url_loopback"),
            ("x.vcap.me", "url_loopback"),
            ("127.0.0.1.NIP.IO", "url_loopback"),
            ("127.0.0.1.nip.io.", "url_loopback"),
        ],
    )
    def test_flagged(self, host: str, code: str) -> None:
        assert code in codes(f"https://{host}/"), codes(f"https://{host}/")

    @pytest.mark.parametrize(
        "host",
        [
            "8.8.8.8.nip.io",
            "1-1-1-1.sslip.io",
            "nip.io",
            "sslip.io",
            "example.nip.io",
            "consul.io",
            "svc.example.com",
            "kubernetes.io",
            "default.example",
            "metadata.tencentyun.com.evil.example",
            "notnip.io",
            "notlvh.me",
            "evillocaltest.me",
            "127.0.0.1.nip.io.evil.com",
        ],
    )
    def test_not_flagged(self, host: str) -> None:
        assert not codes(f"https://{host}/") & INTERNAL_CODES, codes(f"https://{host}/")


class TestUts46Table:
    """The shipped compact table equals the `idna` package's UTS #46 table, code point by code point."""

    def test_matches_the_idna_package(self) -> None:
        uts46data = pytest.importorskip("idna.uts46data")
        import bisect

        starts = uts46data.uts46_starts
        for cp in range(0x110000):
            i = cp if cp < 256 else bisect.bisect_right(starts, cp) - 1
            want = chr(uts46data.uts46_statuses[i])
            got, replacement = status_of(chr(cp))
            assert got == want, hex(cp)
            if want == "M":
                assert replacement == uts46data.uts46_replacements[i], hex(cp)

    def test_map_host_matches_idna_remap(self) -> None:
        idna = pytest.importorskip("idna")
        samples = ["ＥＸＡＭＰＬＥ。com", "a\u034fb.c", "Straße.de", "ǅ.com", "ﬁ.com", "①.com", "㍱.jp", "x\u200dy"]
        for text in samples:
            try:
                want = idna.uts46_remap(text, std3_rules=False)
            except idna.IDNAError:
                want = None
            assert map_host(text) == want, text


def hostile_corpus() -> list[str]:
    """A deterministic corpus: every internal target with ignorable, mapped and look-alike code
    points in several places, in several URL shapes."""
    fullwidth = {ch: chr(ord(ch) + 0xFEE0) for ch in "0123456789abcdefghijklmnopqrstuvwxyz."}
    dots = ["\u3002", "\uff0e", "\uff61"]
    inserts = [chr(cp) for cp in IGNORED] + ["\u00ad", "\u200c", "\u200d", "\u2060"]
    urls: list[str] = []
    for target in TARGETS:
        for ch in inserts:
            urls.append(f"https://{target}{ch}/")
            urls.append(f"https://{ch}{target}/a.png")
            middle = len(target) // 2
            urls.append(f"https://{target[:middle]}{ch}{target[middle:]}/")
        urls.append("https://" + "".join(fullwidth.get(c, c) for c in target) + "/")
        for dot in dots:
            urls.append(f"https://{target.replace('.', dot)}/")
        urls.append(f"https://{target.upper()}/")
        urls.append(f"https://user@{target}\ufe0f:443/")
        urls.append(f"http://{target}\u034f./x")
    for a, b in itertools.product(["127", "10", "169", "0x7f", "0177", "2130706433"], ["\ufe0f", "\u034f", "\u180b"]):
        urls.append(f"https://{a}{b}.0.0.1/")
        urls.append(f"https://{a}{b}/")
    return urls


class TestDifferentialAgainstAda:
    def test_every_url_ada_maps_to_an_internal_host_is_flagged(self) -> None:
        ada_url = pytest.importorskip("ada_url")
        corpus = hostile_corpus()
        assert len(corpus) >= 1000
        internal = parsed = 0
        misses: list[str] = []
        for url in corpus:
            try:
                host = ada_url.URL(url).hostname
            except ValueError:
                continue
            parsed += 1
            mapped = codes(f"https://{host}/") & INTERNAL_CODES
            if host.startswith("["):
                mapped |= {"url_loopback"} if ipaddress.ip_address(host[1:-1]).is_loopback else set()
            if not mapped:
                continue
            internal += 1
            ours = codes(url)
            if not ours or not (mapped <= ours or ours & {"url_malformed", "url_idn_invalid"}):
                misses.append(f"{url.encode('unicode_escape').decode()} -> {host}: {sorted(ours)}")
        assert not misses, misses[:20]
        assert parsed >= 1000
        assert internal >= 1000
