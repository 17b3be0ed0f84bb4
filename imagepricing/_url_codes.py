"""The URL policies and the URL finding codes, apart from the checks themselves.

The rules, the engine and the command line need these names at import time, and the codes are
declared here (`findings.declare`) so that `CODES` holds them from the start; the checks in
`urls.py` (with ipaddress, urllib.parse and unicodedata behind them) load on the first URL a
request actually carries. `urls.py` re-exports both names.
"""

from __future__ import annotations

from imagepricing.findings import declare

__all__ = ["URL_POLICIES", "URL_PROBLEM_CODES"]

URL_POLICIES: tuple[str, ...] = ("basic", "strict")

URL_PROBLEM_CODES: dict[str, str] = {
    "url_empty": "The value is empty or only whitespace.",
    "url_not_absolute": "The value has no scheme: it is relative, scheme-relative (//host) or host:port.",
    "url_scheme": "The scheme is neither http nor https.",
    "url_no_host": "The http(s) URL names no host.",
    "url_malformed": "The URL contains whitespace/control characters or cannot be "
    "parsed unambiguously (bad port, brackets, host characters, IPv4 form...).",
    "url_data_uri_not_allowed": "A data: URI is given where only http(s) URLs are accepted.",
    "url_data_uri_invalid": "A data: URI is not data:image/<png|jpeg|jpg|webp|gif>;base64,<valid base64>.",
    "url_not_https": "strict: the scheme is http rather than https.",
    "url_credentials": "strict: the URL carries userinfo (user:password@).",
    "url_host_percent_encoded": "strict: the host is written with percent-escapes.",
    "url_numeric_host_obfuscated": "strict: an IPv4 host is written in a form other than plain dotted decimal.",
    "url_loopback": "strict: the host is a loopback address or a localhost name.",
    "url_private": "strict: the host is a private, unique-local or CGNAT address.",
    "url_link_local": "strict: the host is a link-local address.",
    "url_metadata": "strict: the host is a cloud instance-metadata endpoint.",
    "url_unspecified": "strict: the host is an unspecified address (0.0.0.0/8, ::).",
    "url_reserved": "strict: the host is a multicast, documentation, reserved or otherwise non-global address.",
    "url_single_label_host": "strict: the host name has a single label (no dot).",
    "url_internal_host": "strict: the host name is in an internal-only domain (.internal, .local, .localhost...).",
    "url_idn_invalid": "strict: an internationalised host label cannot be decoded or encoded.",
    "url_idn_confusable": "strict: an internationalised host label mixes scripts, "
    "contains symbols or imitates Latin letters.",
}

_URL_SOURCE = "acedata-api-reference: callback_url; imagepricing: URL checks (imagepricing.urls)"
# Kept under the basic policy for what no source accepts (not a URL, another scheme, no host, a
# bad data URI); the strict codes are the caller's own pre-flight policy (url_policy="strict").
for _code, _summary in URL_PROBLEM_CODES.items():
    declare(_code, "error", _summary, _URL_SOURCE)
