"""Tests for imagepricing.urls: offline URL checks and redaction."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagepricing import urls
from imagepricing.urls import (
    URL_POLICIES,
    URL_PROBLEM_CODES,
    UrlProblem,
    redact_url,
    url_problems,
)

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"


def codes(value: str, policy: str = "basic", *, allow_data_uri: bool = False) -> frozenset[str]:
    return frozenset(p.code for p in url_problems(value, policy=policy, allow_data_uri=allow_data_uri))


Case = tuple[str, str, bool, frozenset[str]]


def row(url: str, policy: str, *expected: str, allow_data_uri: bool = False) -> Case:
    return (url, policy, allow_data_uri, frozenset(expected))


CASES: list[Case] = [
    # --- acceptable ------------------------------------------------------
    row("https://example.com/a.png", "basic"),
    row("https://example.com/a.png", "strict"),
    row("HTTPS://EXAMPLE.COM", "strict"),
    row("http://example.com/", "basic"),
    row("https://example.com./x", "strict"),
    row("https://example.com:/x", "strict"),
    row("https://example.com:8443/x?y=1#z", "strict"),
    row("https://cdn.exa_mple.com/x", "strict"),
    row("https://8.8.8.8/", "strict"),
    row("https://[2606:4700:4700::1111]/", "strict"),
    row("https://[2606:4700:4700::1111]:443/", "strict"),
    row("https://[::ffff:8.8.8.8]/", "strict"),
    row("https://xn--mnchen-3ya.de/", "strict"),
    row("https://münchen.de/", "strict"),
    row("https://例子.中国/", "strict"),
    row("https://日本語ドメイン.jp/", "strict"),
    row("https://рус.рф/", "strict"),
    row("https://пример.рф/", "strict"),
    # --- empty / not absolute / scheme / host ----------------------------
    row("", "basic", "url_empty"),
    row("   ", "strict", "url_empty"),
    row("//example.com/x", "basic", "url_not_absolute"),
    row("/relative/path.png", "basic", "url_not_absolute"),
    row("example.com/x.png", "basic", "url_not_absolute"),
    row("localhost:8080", "basic", "url_not_absolute"),
    row("example.com:443/x", "strict", "url_not_absolute"),
    row("1http://example.com/", "basic", "url_not_absolute"),
    row("javascript:alert(1)", "basic", "url_scheme"),
    row("JavaScript:alert(1)", "strict", "url_scheme"),
    row("ftp://example.com/a.png", "basic", "url_scheme"),
    row("file:///etc/passwd", "basic", "url_scheme"),
    row("gopher://127.0.0.1:6379/_", "strict", "url_scheme"),
    row("mailto:someone@example.com", "basic", "url_scheme"),
    row("https://", "basic", "url_no_host"),
    row("https:///path", "basic", "url_no_host"),
    row("https://:443/", "basic", "url_no_host"),
    row("https:example.com", "basic", "url_no_host"),
    row("https://./", "basic", "url_no_host"),
    row("https://user@/", "strict", "url_no_host", "url_credentials"),
    # --- malformed ---------------------------------------------------------
    row("https://example.com/\n", "basic", "url_malformed"),
    row("https://example.com/\n", "strict", "url_malformed"),
    row(" https://example.com/", "basic", "url_malformed"),
    row("https://exa\tmple.com/", "basic", "url_malformed"),
    row("https://exa mple.com/", "basic", "url_malformed"),
    row("https://example.com/a b.png", "basic", "url_malformed"),
    row("https://example.com/\x00", "basic", "url_malformed"),
    row("https://exa\u200bmple.com/", "basic", "url_malformed"),
    row("https://exa\u202emple.com/", "basic", "url_malformed"),
    row("https://example.com:99999/", "basic", "url_malformed"),
    row("https://example.com:0/", "basic", "url_malformed"),
    row("https://example.com:+80/", "basic", "url_malformed"),
    row("https://example.com:http/", "basic", "url_malformed"),
    row("https://a:1:2/", "basic", "url_malformed"),
    row("https://::1/", "basic", "url_malformed"),
    row("https://[::1", "basic", "url_malformed"),
    row("https://::1]/", "basic", "url_malformed"),
    row("https://[::1]x/", "basic", "url_malformed"),
    row("https://a[::1]/", "basic", "url_malformed"),
    row("https://[v1.fe]/", "basic", "url_malformed"),
    row("https://[not-an-ip]/", "basic", "url_malformed"),
    row("https://[fe80::1%25eth0]/", "basic", "url_malformed"),
    row("https:\\\\example.com\\a", "basic", "url_malformed", "url_no_host"),
    row("https://example.com\\@evil.com/", "basic", "url_malformed"),
    row("https://a@b@example.com/", "basic", "url_malformed"),
    row("https://a@b@example.com/", "strict", "url_malformed", "url_credentials"),
    row("https://a..b/", "basic", "url_malformed"),
    row("https://.example.com/", "basic", "url_malformed"),
    row("https://example.com../", "basic", "url_malformed"),
    row("https://ex!ample.com/", "basic", "url_malformed"),
    row("https://example.com／evil.com/", "basic", "url_malformed"),
    row("https://" + "a" * 64 + ".com/", "basic", "url_malformed"),
    row("https://" + "a." * 130 + "com/", "basic", "url_malformed"),
    row("https://1.2.3.4.5/", "basic", "url_malformed"),
    row("https://example.123/", "basic", "url_malformed"),
    row("https://256.0.0.1/", "basic", "url_malformed"),
    row("https://4294967296/", "basic", "url_malformed"),
    row("https://08.0.0.1/", "basic", "url_malformed"),
    row("https://" + "0" * 31 + "1/", "basic", "url_malformed"),
    row("https://" + "9" * 5000 + "/", "strict", "url_malformed"),
    row("https://%zz.com/", "basic", "url_malformed"),
    row("https://%ff.com/", "basic", "url_malformed"),
    row("https://a%2Fb.com/", "basic", "url_malformed"),
    # --- data URIs ---------------------------------------------------------
    row(PNG, "basic", allow_data_uri=True),
    row(PNG, "strict", allow_data_uri=True),
    row("DATA:IMAGE/JPEG;BASE64,/9j/4AAQ", "basic", allow_data_uri=True),
    row("data:image/webp;base64,UklGRg==", "basic", allow_data_uri=True),
    row("data:image/gif;base64,R0lGOD-_", "basic", allow_data_uri=True),
    row("data:image/jpg;base64,abc", "basic", allow_data_uri=True),
    row(PNG, "basic", "url_data_uri_not_allowed"),
    row(PNG, "strict", "url_data_uri_not_allowed"),
    row("data:,hello", "basic", "url_data_uri_not_allowed"),
    row(
        "data:image/svg+xml;base64,PHN2Zz4=",
        "basic",
        "url_data_uri_invalid",
        allow_data_uri=True,
    ),
    row("data:text/html;base64,PGI+", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png,rawbytes", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64,", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64,===", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64,QQ===", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64,QQ=", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64,QUJD!", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64,A+B-", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64,ABCDE", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row("data:image/png;base64", "basic", "url_data_uri_invalid", allow_data_uri=True),
    row(
        "data:image/png;base64,QUJD\n",
        "basic",
        "url_malformed",
        allow_data_uri=True,
    ),
    # --- strict: scheme and credentials -------------------------------------
    row("http://example.com/", "strict", "url_not_https"),
    row("https://user:pw@example.com/", "basic"),
    row("https://user:pw@example.com/", "strict", "url_credentials"),
    row("http://user:pw@example.com/", "strict", "url_not_https", "url_credentials"),
    row("https://@example.com/", "strict", "url_credentials"),
    row("https://example.com:80@evil.com/", "strict", "url_credentials"),
    # --- strict: IP literals ---------------------------------------------------
    row("http://127.0.0.1/", "basic"),
    row("https://127.0.0.1/", "strict", "url_loopback"),
    row("https://127.255.0.9:8080/", "strict", "url_loopback"),
    row("https://10.0.0.1./", "strict", "url_private"),
    row("https://172.16.5.4/", "strict", "url_private"),
    row("https://172.32.0.1/", "strict"),
    row("https://192.168.1.1/", "strict", "url_private"),
    row("https://100.64.0.1/", "strict", "url_private"),
    row("https://100.100.100.200/", "strict", "url_private", "url_metadata"),
    row("https://169.254.1.1/", "strict", "url_link_local"),
    row("https://169.254.169.254/latest/meta-data/", "strict", "url_metadata", "url_link_local"),
    row("https://169.254.170.2/v2/credentials", "strict", "url_metadata", "url_link_local"),
    row("https://0.0.0.0/", "strict", "url_unspecified"),
    row("https://0.1.2.3/", "strict", "url_unspecified"),
    row("https://224.0.0.1/", "strict", "url_reserved"),
    row("https://240.0.0.1/", "strict", "url_reserved"),
    row("https://255.255.255.255/", "strict", "url_reserved"),
    row("https://192.0.2.10/", "strict", "url_reserved"),
    row("https://198.18.0.1/", "strict", "url_reserved"),
    row("http://[::1]/", "basic"),
    row("http://[::1]/", "strict", "url_not_https", "url_loopback"),
    row("https://[::1]:8080/", "strict", "url_loopback"),
    row("https://[::]/", "strict", "url_unspecified"),
    row("https://[fe80::1]/", "strict", "url_link_local"),
    row("https://[fc00::1]/", "strict", "url_private"),
    row("https://[fd12:3456::1]/", "strict", "url_private"),
    row("https://[fec0::1]/", "strict", "url_private"),
    row("https://[fd00:ec2::254]/", "strict", "url_metadata", "url_private"),
    row("https://[ff02::1]/", "strict", "url_reserved"),
    row("https://[2001:db8::1]/", "strict", "url_reserved"),
    row("https://[2001::1]/", "strict", "url_reserved"),
    row("http://[::ffff:127.0.0.1]/", "strict", "url_not_https", "url_loopback"),
    row("https://[::FFFF:7f00:1]/", "strict", "url_loopback"),
    row("https://[::ffff:10.0.0.1]/", "strict", "url_private"),
    row(
        "https://[::ffff:169.254.169.254]/",
        "strict",
        "url_metadata",
        "url_link_local",
    ),
    row("https://[::127.0.0.1]/", "strict", "url_loopback"),
    row("https://[64:ff9b::a9fe:a9fe]/", "strict", "url_metadata", "url_link_local"),
    row("https://[2002:c0a8:101::]/", "strict", "url_private"),
    # --- strict: obfuscated IPv4 -------------------------------------------
    row("http://2130706433/", "basic"),
    row("https://2130706433/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://017700000001/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://0x7f.1/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://0X7F.0.0.1/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://0x7f000001/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://0177.0.0.1/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://127.0.0.01/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("http://127.1", "strict", "url_not_https", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://10.1/", "strict", "url_numeric_host_obfuscated", "url_private"),
    row("https://0/", "strict", "url_numeric_host_obfuscated", "url_unspecified"),
    row("https://0x/", "strict", "url_numeric_host_obfuscated", "url_unspecified"),
    row("https://134744072/", "strict", "url_numeric_host_obfuscated"),
    row("https://4294967295/", "strict", "url_numeric_host_obfuscated", "url_reserved"),
    row(
        "https://0251.0376.0251.0376/",
        "strict",
        "url_numeric_host_obfuscated",
        "url_metadata",
        "url_link_local",
    ),
    row("https://１２７.０.０.１/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    row("https://127。0。0。1/", "strict", "url_numeric_host_obfuscated", "url_loopback"),
    # --- percent-encoded hosts ----------------------------------------------
    row("https://%31%32%37.0.0.1/", "basic"),
    row(
        "https://%31%32%37.0.0.1/",
        "strict",
        "url_host_percent_encoded",
        "url_numeric_host_obfuscated",
        "url_loopback",
    ),
    row("https://ex%61mple.com/", "strict", "url_host_percent_encoded"),
    row(
        "https://%6c%6f%63%61%6c%68%6f%73%74/",
        "strict",
        "url_host_percent_encoded",
        "url_single_label_host",
        "url_loopback",
    ),
    # --- strict: names -----------------------------------------------------------
    row("http://localhost/", "basic"),
    row("https://localhost/", "strict", "url_single_label_host", "url_loopback"),
    row("http://localhost./", "strict", "url_not_https", "url_single_label_host", "url_loopback"),
    row("https://LOCALHOST:3000/", "strict", "url_single_label_host", "url_loopback"),
    row("https://localhost。/", "strict", "url_single_label_host", "url_loopback"),
    row("https://api.localhost/", "strict", "url_loopback", "url_internal_host"),
    row("https://intranet/", "strict", "url_single_label_host"),
    row("https://metadata/", "strict", "url_single_label_host", "url_metadata"),
    row("https://metadata.google.internal/", "strict", "url_internal_host", "url_metadata"),
    row("https://metadata.google.internal./", "strict", "url_internal_host", "url_metadata"),
    row("https://svc.internal/", "strict", "url_internal_host"),
    row("https://printer.local/", "strict", "url_internal_host"),
    row("https://db.localdomain./", "strict", "url_internal_host"),
    row("https://router.home.arpa/", "strict", "url_internal_host"),
    row("https://Host.INTERNAL./", "strict", "url_internal_host"),
    # --- strict: IDN -----------------------------------------------------------
    row("http://xn--pple-43d.com/", "basic"),
    row("http://xn--pple-43d.com/", "strict", "url_not_https", "url_idn_confusable"),
    row("https://аpple.com/", "strict", "url_idn_confusable"),
    row("https://paypаl.com/", "strict", "url_idn_confusable"),
    row("https://gοοgle.com/", "strict", "url_idn_confusable"),
    row("https://аррӏе.com/", "strict", "url_idn_confusable"),
    row("https://xn--80ak6aa92e.com/", "strict", "url_idn_confusable"),
    row("https://ｅｘａｍｐｌｅ.com/", "strict", "url_idn_confusable"),
    row("https://xn--ls8h.la/", "strict", "url_idn_confusable"),
    row("https://a\u2215b.com/", "strict", "url_idn_confusable"),
    row("http://xn--/", "basic"),
    row(
        "http://xn--/",
        "strict",
        "url_not_https",
        "url_single_label_host",
        "url_idn_invalid",
    ),
    row("https://xn--a.com/", "strict", "url_idn_invalid"),
    row("https://xn--abc-.com/", "strict", "url_idn_invalid"),
    row("https://xn--zzzzzzzzzzzzz-.com/", "strict", "url_idn_invalid"),
    row("https://xn--MNCHEN-3YA.de/", "strict"),
    row("https://a\ue000b.com/", "basic"),
    row("https://a\ue000b.com/", "strict", "url_idn_invalid"),
]


@pytest.mark.parametrize(
    ("url", "policy", "allow_data_uri", "expected"),
    CASES,
    ids=[f"{policy}:{url[:60]!r}" for url, policy, _, _ in CASES],
)
def test_url_problems_table(url: str, policy: str, allow_data_uri: bool, expected: frozenset[str]) -> None:
    assert codes(url, policy, allow_data_uri=allow_data_uri) == expected


def test_table_covers_every_code() -> None:
    covered: set[str] = set()
    for _, _, _, expected in CASES:
        covered |= expected
    assert covered == set(URL_PROBLEM_CODES)


def test_codes_are_documented_in_module_docstring() -> None:
    doc = urls.__doc__ or ""
    for code in URL_PROBLEM_CODES:
        assert f"``{code}``" in doc
        assert code.startswith("url_")
        assert code == code.lower()
        assert URL_PROBLEM_CODES[code].strip()


def test_policies() -> None:
    assert URL_POLICIES == ("basic", "strict")


@pytest.mark.parametrize("policy", ["", "STRICT", "lenient", "basic "])
def test_unknown_policy_is_a_programming_error(policy: str) -> None:
    with pytest.raises(ValueError, match="policy"):
        url_problems("https://example.com/", policy=policy)


def test_problem_is_frozen_value() -> None:
    (problem,) = url_problems("ftp://example.com/")
    assert problem == UrlProblem("url_scheme", problem.message)
    assert "ftp" in problem.message
    with pytest.raises(AttributeError):
        problem.code = "other"  # type: ignore[misc]


def test_each_code_reported_once() -> None:
    problems = url_problems("https://exa mple.com:99999/\n", policy="strict")
    assert [p.code for p in problems].count("url_malformed") == 1


SECRET = "S3cr3tPa55"


@pytest.mark.parametrize(
    "url",
    [
        f"http://user:{SECRET}@example.com/",
        f"http://{SECRET}@127.0.0.1/",
        f"https://user:{SECRET}@@example.com/",
        f"https://user:{SECRET}/x@example.com/",
        f"https://user:{SECRET}@[::1/",
        f"https://user:{SECRET}@exa mple.com/",
        f"user:{SECRET}@example.com",
        f"{SECRET}:pw@example.com/",
        f"ftp://u:{SECRET}@example.com/",
        f"https://{SECRET}/",
        f"https://{SECRET}.xn--/",
        f"https://{SECRET}:99999/",
        f"data:image/png;base64,{SECRET}!",
    ],
)
@pytest.mark.parametrize("policy", URL_POLICIES)
def test_messages_never_repeat_url_parts(url: str, policy: str) -> None:
    problems = url_problems(url, policy=policy, allow_data_uri=True)
    for problem in problems:
        assert SECRET.lower() not in problem.message.lower()


def test_credentials_message_hides_password() -> None:
    (problem,) = url_problems("https://user:pw@example.com/", policy="strict")
    assert problem.code == "url_credentials"
    assert "pw" not in problem.message
    assert "user:" not in problem.message


def test_huge_inputs_are_handled() -> None:
    big = "https://example.com/" + "a" * 1_000_000
    assert url_problems(big, policy="strict") == ()
    data_uri = "data:image/png;base64," + "A" * 1_000_000
    assert url_problems(data_uri, policy="strict", allow_data_uri=True) == ()
    assert codes(data_uri + "!", allow_data_uri=True) == {"url_data_uri_invalid"}
    assert codes("https://" + "a" * 1_000_000 + "/", "strict") == {"url_malformed"}
    assert "url_malformed" in codes("https://" + "я" * 1_000_000 + "/", "strict")
    assert "url_malformed" in codes("https://" + "1." * 500_000, "strict")
    assert "url_malformed" in codes("https://[" + ":" * 1_000_000 + "]/", "strict")
    assert "url_malformed" in codes("https://" + "%41" * 300_000 + "/", "strict")
    assert "url_malformed" in codes("https://x/" + "\n" * 1_000_000)
    assert "url_credentials" in codes("https://" + "@" * 1_000_000, "strict")
    assert len(redact_url(big)) == 200
    assert len(redact_url(data_uri)) == 200
    assert len(redact_url("https://x/?" + "token=1&" * 200_000)) == 200


# --- properties ------------------------------------------------------------------

URLISH_ALPHABET = st.sampled_from(
    [
        *"aAxX019.:/[]@%?#&=\\-_ ~\t\n\x00",
        *("xn--", "0x", "::", "ffff", "localhost", "%2e"),
        *("а", "ο", "。", "／", "\u200b"),
    ]
)
URLISH = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["", "http://", "https://", "HTTP://", "//", "data:", "data:image/png;base64,"]),
        st.lists(URLISH_ALPHABET, max_size=30).map("".join),
    ),
)
ANY_TEXT = st.one_of(st.text(), URLISH)


@settings(max_examples=400)
@given(value=ANY_TEXT, allow_data_uri=st.booleans())
def test_never_raises_and_uses_known_codes(value: str, allow_data_uri: bool) -> None:
    for policy in URL_POLICIES:
        problems = url_problems(value, policy=policy, allow_data_uri=allow_data_uri)
        assert isinstance(problems, tuple)
        found = [p.code for p in problems]
        assert len(found) == len(set(found))
        assert set(found) <= set(URL_PROBLEM_CODES)
        assert all(p.message for p in problems)


@settings(max_examples=400)
@given(value=ANY_TEXT, allow_data_uri=st.booleans())
def test_strict_is_superset_of_basic(value: str, allow_data_uri: bool) -> None:
    basic = codes(value, "basic", allow_data_uri=allow_data_uri)
    strict = codes(value, "strict", allow_data_uri=allow_data_uri)
    assert basic <= strict


@given(
    user=st.text(alphabet="abcdefghijklmnop", min_size=1, max_size=10),
    password=st.text(alphabet="QRSTUVWXYZ0123456789", min_size=6, max_size=20),
    host=st.sampled_from(["example.com", "127.0.0.1", "[::1]", "exa mple", ""]),
)
def test_messages_do_not_leak_userinfo(user: str, password: str, host: str) -> None:
    url = f"http://{user}:{password}@{host}/"
    for policy in URL_POLICIES:
        for problem in url_problems(url, policy=policy):
            assert password not in problem.message
        assert password not in redact_url(url)


# --- redact_url ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a.png", "https://example.com/a.png"),
        ("https://user:pw@example.com/a", "https://***@example.com/a"),
        ("https://user@example.com/a", "https://***@example.com/a"),
        ("https://a@b@example.com/a", "https://***@example.com/a"),
        ("user:pw@example.com/a", "***@example.com/a"),
        ("//user:pw@example.com/a", "//***@example.com/a"),
        (
            "https://e.com/x?token=abc&size=1024x1024&api_key=k",
            "https://e.com/x?token=***&size=1024x1024&api_key=***",
        ),
        (
            "https://e.com/x?apiKey=1&AccessToken=2&keyword=cats&author=me",
            "https://e.com/x?apiKey=***&AccessToken=***&keyword=cats&author=me",
        ),
        (
            "https://b.s3.amazonaws.com/k.png?X-Amz-Credential=AKIA&X-Amz-Date=20250101"
            "&X-Amz-Signature=abc&X-Amz-Security-Token=t",
            "https://b.s3.amazonaws.com/k.png?X-Amz-Credential=***&X-Amz-Date=20250101"
            "&X-Amz-Signature=***&X-Amz-Security-Token=***",
        ),
        (
            "https://acct.blob.core.windows.net/c/i.png?sv=2022&sp=r&sig=abc%3D",
            "https://acct.blob.core.windows.net/c/i.png?sv=2022&sp=r&sig=***",
        ),
        (
            "https://e.com/?secret=a;password=b;page=2",
            "https://e.com/?secret=***;password=***;page=2",
        ),
        ("https://e.com/?auth=x&Authorization=y", "https://e.com/?auth=***&Authorization=***"),
        ("https://e.com/?api%5Fkey=x", "https://e.com/?api%5Fkey=***"),
        ("https://e.com/?token=&token", "https://e.com/?token=&token"),
        (
            "https://e.com/cb#access_token=abc&state=1",
            "https://e.com/cb#access_token=***&state=1",
        ),
        ("https://e.com/page#section-2", "https://e.com/page#section-2"),
        ("https://e.com/a\nb", "https://e.com/a\\nb"),
        ("", ""),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_url_truncates() -> None:
    long_url = "https://example.com/" + "a" * 500
    shown = redact_url(long_url)
    assert len(shown) == 200
    assert shown.endswith("…")
    assert long_url.startswith(shown[:-1])
    assert redact_url("https://example.com/" + "a" * 180) == "https://example.com/" + "a" * 180


def test_redact_url_hides_secret_cut_by_truncation() -> None:
    url = "https://example.com/" + "a" * 150 + "?token=" + "T" * 100
    shown = redact_url(url)
    assert "T" not in shown
    assert "token=***" in shown


@settings(max_examples=400)
@given(value=ANY_TEXT)
def test_redact_url_never_raises(value: str) -> None:
    shown = redact_url(value)
    assert isinstance(shown, str)
    assert len(shown) <= 200
    assert "\n" not in shown
    assert "\x00" not in shown


class TestAuthorityMemo:
    """url_problems memoises plain ASCII http(s) URLs by scheme and authority; it must give
    exactly what a fresh check gives, for any URL."""

    _plain_chars = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
    _urls = st.builds(
        lambda scheme, authority, tail: f"{scheme}://{authority}{tail}",
        st.sampled_from(["http", "https"]),
        st.text(_plain_chars, max_size=40)
        | st.sampled_from(["example.com", "127.0.0.1", "user:pw@10.0.0.1:80", "[::1]", "0x7f.1"]),
        st.text(_plain_chars, max_size=40) | st.sampled_from(["", "/", "/a@b", "/x?y=1#z", "?@@", "#\\"]),
    )

    @given(url=_urls, policy=st.sampled_from(URL_POLICIES), allow_data_uri=st.booleans())
    def test_memoised_verdict_equals_a_fresh_check(self, url: str, policy: str, allow_data_uri: bool) -> None:
        expected = urls._url_problems_uncached(url, policy, allow_data_uri)
        assert url_problems(url, policy=policy, allow_data_uri=allow_data_uri) == expected
        # Twice: the second answer comes from the memo.
        assert url_problems(url, policy=policy, allow_data_uri=allow_data_uri) == expected

    def test_path_query_and_fragment_do_not_leak_into_the_memo(self) -> None:
        assert url_problems("https://example.com/a") == ()
        assert url_problems("https://example.com/a b") != ()  # not memoised: it has a space
        assert url_problems("https://example.com/a\\b") != ()  # nor with a backslash
