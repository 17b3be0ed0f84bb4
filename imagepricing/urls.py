"""Offline checks for URLs found in image-generation API requests.

Two kinds of URL reach an OpenAI-compatible image API: ``callback_url`` (a
webhook the platform POSTs results to) and the ``image`` / ``mask`` inputs of
an edits request (the upstream fetches them). Both make the platform open a
connection chosen by the caller, so a pre-flight check should refuse URLs that
are broken, ambiguous between URL parsers, or aimed at internal services
(server-side request forgery, SSRF).

Everything here is offline and defensive: no name is ever resolved, nothing
touches the network, no ``str`` input makes :func:`url_problems` or
:func:`redact_url` raise, and the work is linear in the input (plain string
operations; no backtracking regular expressions). Per-label IDN work is bounded
because labels longer than 63 characters are rejected before decoding.

Policies
========

``basic`` (always applied) -- is this a usable absolute http(s) URL?

* It must be non-empty, absolute, use the ``http`` or ``https`` scheme (any
  case) and name a non-empty host.
* Whitespace or control characters anywhere (including a trailing newline,
  tabs, NUL, zero-width and bidi format characters) make it malformed: parsers
  silently strip or keep them differently, which is how filters are bypassed.
  Analysis continues on the text a WHATWG parser would see (C0/space trimmed,
  tab/CR/LF removed) so the other problems are still reported.
* Malformed as well: a backslash before the query (WHATWG parsers read it as
  ``/``, RFC 3986 parsers do not, so they disagree about the host), more than
  one ``@`` in the authority, unbalanced or misplaced IPv6 brackets, an invalid
  IPv6 literal or one with a zone id, unbracketed colons, a port that is not a
  number from 1 to 65535, characters that cannot appear in a host name
  (checked after NFKC normalisation, so a fullwidth ``／`` counts as ``/``),
  empty labels (``a..b``), labels over 63 or hosts over 253 characters,
  invalid percent-escapes in the host, and a host that ends in a number but is
  not a valid IPv4 address (``1.2.3.4.5``, ``example.123``, ``256.0.0.1``),
  which WHATWG parsers refuse too.
* ``data:`` URIs. Seed 002 (XHuoAPI edits documentation) says the nano-banana
  adapter converts multipart uploads to ``data:<mime>;base64,...`` for the
  upstream, so the upstream accepts data URIs as images: with
  ``allow_data_uri=True`` a ``data:image/<png|jpeg|jpg|webp|gif>;base64,<payload>``
  URI is accepted when the payload is non-empty, well-formed base64 (standard
  or URL-safe alphabet, not both; at most two ``=`` of padding) -- anything
  else is ``url_data_uri_invalid``. SVG is not accepted (it can carry
  scripts). A callback must be a reachable http(s) endpoint, so callers pass
  ``allow_data_uri=False`` for ``callback_url`` and every ``data:`` URI is then
  ``url_data_uri_not_allowed``. ``strict`` adds nothing for data URIs: they
  cause no network fetch.

``strict`` (basic plus SSRF protections, for requests from untrusted callers)

* ``http`` instead of ``https``; any userinfo (``user:pw@``, even an empty
  ``@``) in the authority.
* IP-literal hosts in non-public ranges, judged with :mod:`ipaddress` against
  explicit tables (the standard library's own flags differ between Python
  versions): loopback, private, link-local, cloud metadata, unspecified and
  other reserved/non-global ranges. IPv6 addresses embedding an IPv4 address
  (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``,
  IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4
  ``2002::/16``) are judged by the embedded IPv4 address, so
  ``[::ffff:127.0.0.1]`` is loopback while ``[::ffff:8.8.8.8]`` is fine.
* IPv4 hosts written in any form other than plain dotted decimal -- one
  integer (``2130706433``), octal (``0177.0.0.1``), hex (``0x7f.1``),
  shortened (``127.1``), percent-encoded or fullwidth digits -- get
  ``url_numeric_host_obfuscated``; the address is decoded with
  ``inet_aton``/WHATWG semantics (up to four parts, each decimal, octal with a
  leading ``0`` or hex with ``0x``; the last part fills the remaining bytes)
  and checked like a literal address. Parts longer than 20 digits are treated
  as invalid rather than converted.
* Names: a single-label host (``intranet``, ``metadata``, ``localhost``) is
  resolved through search domains, ``/etc/hosts`` or internal DNS; names under
  ``.localhost``, ``.local``, ``.localdomain``, ``.internal``, ``.home.arpa``,
  ``.lan``, ``.intranet``, ``.corp``, ``.home``, ``.private``, ``.test``,
  ``.invalid`` exist only inside a network. ``localhost`` and ``*.localhost``
  are also loopback (RFC 6761 section 6.3: resolvers answer them with the
  loopback address without asking DNS). ``metadata``, ``instance-data`` and
  ``metadata.google.internal`` also get ``url_metadata``. One trailing dot is
  ignored for all of these, so ``localhost.`` is still caught.
* Hosts written with percent-escapes (``%31%32%37.0.0.1``) get
  ``url_host_percent_encoded``: WHATWG parsers decode them, curl and many
  HTTP clients do not, so the host a filter sees need not be the one fetched.
  The decoded host is then checked like any other (so the example is also
  obfuscated and loopback). In ``basic`` a percent-encoded host that decodes to
  a valid host name is accepted (RFC 3986 allows it).
* IDN: an ``xn--`` label that does not decode with the ``punycode`` codec, or
  does not round-trip through the ``idna`` codec (IDNA 2003), or a raw
  non-ASCII label the ``idna`` codec cannot encode, is ``url_idn_invalid``. A
  decoded or raw non-ASCII label is ``url_idn_confusable`` when it mixes
  scripts (judged by the first word of :func:`unicodedata.name`: LATIN,
  CYRILLIC, GREEK...; digits, hyphens and combining marks are neutral; Latin
  combined with Han, Hiragana, Katakana, Hangul or Bopomofo is allowed, as
  browsers do), contains a symbol or punctuation character (``／``, ``∕``,
  ``․``, emoji...), consists only of Cyrillic or only of Greek letters that
  all look like Latin letters under an ASCII top-level domain (whole-script
  homographs such as ``аррӏе.com``; ``рус.рф`` is fine), or
  when the host is written with compatibility characters that normalise to
  something else (fullwidth ``ｅｘａｍｐｌｅ.com``). A single-script non-ASCII
  label that passes these tests (``münchen.de``, ``例子.中国``) gets no
  problem: it is a legitimate internationalised name.

Problem codes
=============

Each code appears at most once in a result, in the order found.

================================  =======  ======================================
code                              policy   meaning
================================  =======  ======================================
``url_empty``                     basic    empty or whitespace only
``url_not_absolute``              basic    no scheme (relative, ``//host``, ``host:port``)
``url_scheme``                    basic    scheme other than http/https
``url_no_host``                   basic    http(s) URL without a host
``url_malformed``                 basic    unparseable or ambiguous (see above)
``url_data_uri_not_allowed``      basic    ``data:`` URI where none is allowed
``url_data_uri_invalid``          basic    ``data:`` URI not a base64 png/jpeg/webp/gif
``url_not_https``                 strict   plain http
``url_credentials``               strict   userinfo in the authority
``url_host_percent_encoded``      strict   percent-escapes in the host
``url_numeric_host_obfuscated``   strict   IPv4 not in plain dotted-decimal form
``url_loopback``                  strict   loopback address or localhost name
``url_private``                   strict   private / unique-local / CGNAT address
``url_link_local``                strict   link-local address
``url_metadata``                  strict   cloud instance-metadata endpoint
``url_unspecified``               strict   0.0.0.0/8 or ``::``
``url_reserved``                  strict   multicast, documentation, reserved...
``url_single_label_host``         strict   host name without a dot
``url_internal_host``             strict   name in an internal-only domain
``url_idn_invalid``               strict   undecodable / invalid IDN label
``url_idn_confusable``            strict   IDN label that can imitate another name
================================  =======  ======================================

``0.0.0.0`` gets its own code, ``url_unspecified``, rather than being folded
into loopback: it is not a loopback address, but Linux and macOS connect to
the local host when asked for it (the "0.0.0.0 day" browser bypass), so it is
just as dangerous. The cloud metadata address ``169.254.169.254`` gets both
``url_metadata`` and ``url_link_local``; ``fd00:ec2::254`` gets
``url_metadata`` and ``url_private``; ``100.100.100.200`` gets
``url_metadata`` and ``url_private``.

Address ranges and sources
==========================

* Loopback ``127.0.0.0/8`` (RFC 1122 section 3.2.1.3), ``::1`` (RFC 4291
  section 2.5.3); ``localhost`` names (RFC 6761 section 6.3).
* Unspecified / "this network" ``0.0.0.0/8`` (RFC 1122, RFC 6890), ``::``
  (RFC 4291 section 2.5.2).
* Private ``10/8``, ``172.16/12``, ``192.168/16`` (RFC 1918); shared address
  space / CGNAT ``100.64/10`` (RFC 6598), folded into private because it is
  internal to a carrier or cloud (Alibaba Cloud serves metadata from it);
  unique-local ``fc00::/7`` (RFC 4193); deprecated site-local ``fec0::/10``
  (RFC 3879); local-use NAT64 ``64:ff9b:1::/48`` (RFC 8215).
* Link-local ``169.254/16`` (RFC 3927), ``fe80::/10`` (RFC 4291 section
  2.5.6).
* Cloud metadata: ``169.254.169.254`` (AWS, GCP, Azure, OCI, DigitalOcean,
  OpenStack), ``169.254.170.2`` (AWS ECS task credentials), ``fd00:ec2::254``
  (AWS IMDS over IPv6), ``100.100.100.200`` (Alibaba Cloud); names
  ``metadata.google.internal``, ``metadata``, ``instance-data``. See the OWASP
  Server-Side Request Forgery Prevention Cheat Sheet and the providers'
  instance-metadata documentation.
* Reserved: multicast ``224/4`` (RFC 5771) and ``ff00::/8`` (RFC 4291),
  ``240/4`` including broadcast ``255.255.255.255`` (RFC 1112, RFC 919),
  IETF protocol assignments ``192.0.0.0/24`` (RFC 6890), documentation
  ``192.0.2/24``, ``198.51.100/24``, ``203.0.113/24`` (RFC 5737),
  ``2001:db8::/32`` (RFC 3849), ``3fff::/20`` (RFC 9637), benchmarking
  ``198.18/15`` (RFC 2544), 6to4 relay anycast ``192.88.99.0/24`` (RFC 7526),
  discard-only ``100::/64`` (RFC 6666), and anything else
  :mod:`ipaddress` does not consider global (e.g. Teredo ``2001::/32``).

What cannot be judged offline
=============================

* Whether a name resolves to an internal address: ``127.0.0.1.nip.io``, a
  DNS-rebinding domain or a public name with a private A record all pass,
  because nothing is resolved. The fetcher must re-check the address it
  actually connects to (and every redirect).
* Homographs within one script (``paypa1.com``, ``examp1e``, Latin letters
  with diacritics such as ``ėxample``) and brand impersonation in general.
* Whether the host exists, the port is open, or the resource is an image.
* Secrets in paths (``/bot<token>/``): :func:`redact_url` only hides userinfo
  and secret-looking query/fragment parameters.
* Characters of the path and query are not validated beyond whitespace and
  control characters; clients percent-encode them when sending.

Why one long module (about 1,100 lines): it is one checker, the URL policy, whose parts (the
parse, the host's classes, IDNA, the data URI, redaction) call one another and share its
tables; split, each piece would need the others' private names.
"""

from __future__ import annotations

import functools
import ipaddress
import unicodedata
from typing import TypeAlias
from urllib.parse import unquote, unquote_plus

import attrs

from imagepricing._url_codes import URL_POLICIES, URL_PROBLEM_CODES
from imagepricing._uts46 import map_host

__all__ = [
    "URL_POLICIES",
    "URL_PROBLEM_CODES",
    "UrlProblem",
    "redact_url",
    "url_problems",
]


@attrs.frozen(weakref_slot=True)
class UrlProblem:
    """One problem found in a URL."""

    code: str
    """Stable snake_case code, one of :data:`URL_PROBLEM_CODES`."""
    message: str
    """One sentence for a person; never repeats any part of the URL."""


# Default messages. None of them quote the URL: a misparsed URL can put a
# password where the host or scheme is expected.
_MESSAGES: dict[str, str] = {
    "url_empty": "The URL is empty.",
    "url_not_absolute": "The URL is not absolute; it needs a scheme, such as https://.",
    "url_scheme": "The URL scheme must be http or https.",
    "url_no_host": "The URL has no host; write it as https://host/path.",
    "url_malformed": "The URL is malformed.",
    "url_data_uri_not_allowed": "A data: URI is not accepted here; give an http(s) URL.",
    "url_data_uri_invalid": "The data: URI must be data:image/<png|jpeg|webp|gif>;"
    "base64, followed by non-empty base64 data.",
    "url_not_https": "The URL must use https, not http.",
    "url_credentials": "The URL must not contain a user name or password before the host; they were not shown here.",
    "url_host_percent_encoded": "The host must not be written with "
    "percent-escapes, because URL parsers disagree on decoding them.",
    "url_numeric_host_obfuscated": "The host is an IPv4 address written in a "
    "non-standard numeric form (integer, octal, hex or shortened).",
    "url_loopback": "The host points at the loopback interface of the server itself.",
    "url_private": "The host is a private-network address.",
    "url_link_local": "The host is a link-local address.",
    "url_metadata": "The host is a cloud instance-metadata endpoint.",
    "url_unspecified": "The host is an unspecified address (0.0.0.0 or ::), "
    "which reaches the server itself on common systems.",
    "url_reserved": "The host is a multicast, reserved or otherwise non-public address.",
    "url_single_label_host": "The host name has no dot, so it can only be an internal name.",
    "url_internal_host": "The host name is in a domain that exists only inside private networks.",
    "url_idn_invalid": "An internationalised label of the host name is not valid IDNA.",
    "url_idn_confusable": "An internationalised label of the host name can be mistaken for a different name.",
}

_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_OCT_DIGITS = frozenset("01234567")
_DEC_DIGITS = frozenset(_DIGITS)
_SCHEME_CHARS = frozenset(_ASCII_LETTERS + _DIGITS + "+-.")
_HOST_ASCII = frozenset(_ASCII_LETTERS.lower() + _DIGITS + "-._")
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.")
_B64_CHARS = frozenset(_ASCII_LETTERS + _DIGITS + "+/-_")
_C0_AND_SPACE = "".join(chr(i) for i in range(0x21))
# WHATWG parsers delete these anywhere in the input; removing them too means
# the remaining checks see the URL the fetcher would see.
_REMOVED_BY_PARSERS = str.maketrans("", "", "\t\n\r")
# WHATWG parsers treat "\\" like "/" in http(s) URLs.
_SLASH_PAIRS = ("//", "\\\\", "/\\", "\\/")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})

_DATA_URI_HEADERS = frozenset(f"image/{subtype};base64" for subtype in ("png", "jpeg", "jpg", "webp", "gif"))

# Named only so messages can be specific without echoing arbitrary input.
_KNOWN_SCHEMES = frozenset(
    {
        "about",
        "blob",
        "chrome",
        "dict",
        "file",
        "ftp",
        "ftps",
        "gopher",
        "jar",
        "javascript",
        "ldap",
        "mailto",
        "netdoc",
        "s3",
        "gs",
        "sftp",
        "smb",
        "ssh",
        "tel",
        "vbscript",
        "view-source",
        "ws",
        "wss",
    }
)

_INTERNAL_SUFFIXES: tuple[str, ...] = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
    ".home",
    ".private",
    ".test",
    ".invalid",
)
# Kubernetes service names (<service>.<namespace>.svc[.cluster.local]) and Consul DNS
# (<service>.service.consul) resolve only inside a cluster; the API server is always
# kubernetes.default. A name under any other namespace (redis.prod) cannot be told from a
# public name offline.
_INTERNAL_SUFFIXES += (".svc", ".cluster.local", ".consul")
_INTERNAL_NAMES = frozenset({"kubernetes.default", "kubernetes.default.svc"})
_METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "instance-data",
        # Tencent Cloud's metadata service (it resolves to 169.254.0.23).
        "metadata.tencentyun.com",
    }
)
# Public names whose every subdomain resolves to 127.0.0.1 (documented by their operators), so
# a written name reveals the loopback target.
_LOOPBACK_DOMAINS = frozenset({"localtest.me", "lvh.me", "vcap.me", "localhost.direct"})
_LOOPBACK_SUFFIXES = tuple("." + domain for domain in sorted(_LOOPBACK_DOMAINS))
# Wildcard DNS services that answer a name with the address written in it: 10.0.0.1.nip.io,
# app-10-0-0-1.nip.io, 0a000001.nip.io, 10-0-0-1.sslip.io, --1.sslip.io (::1). See nip.io and
# sslip.io. The address written in the name is judged like a literal one.
_WILDCARD_DNS = ("nip.io", "sslip.io", "xip.io", "traefik.me", "backname.io", "nip.direct")

_IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA_ADDRESSES: frozenset[_IPAddress] = frozenset(
    {
        ipaddress.IPv4Address("169.254.169.254"),
        ipaddress.IPv4Address("169.254.170.2"),
        ipaddress.IPv4Address("100.100.100.200"),
        # Azure's WireServer (platform agent, and health probes): public-looking, reachable only
        # from inside Azure, and it hands out VM configuration.
        ipaddress.IPv4Address("168.63.129.16"),
        # Tencent Cloud metadata.
        ipaddress.IPv4Address("169.254.0.23"),
        ipaddress.IPv6Address("fd00:ec2::254"),
    }
)


def _v4_rules(
    *rules: tuple[str, str],
) -> tuple[tuple[ipaddress.IPv4Network, str], ...]:
    return tuple((ipaddress.IPv4Network(net), code) for net, code in rules)


def _v6_rules(
    *rules: tuple[str, str],
) -> tuple[tuple[ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.IPv6Network(net), code) for net, code in rules)


_V4_RULES = _v4_rules(
    ("0.0.0.0/8", "url_unspecified"),
    ("127.0.0.0/8", "url_loopback"),
    ("10.0.0.0/8", "url_private"),
    ("172.16.0.0/12", "url_private"),
    ("192.168.0.0/16", "url_private"),
    ("100.64.0.0/10", "url_private"),
    ("169.254.0.0/16", "url_link_local"),
    ("192.0.0.0/24", "url_reserved"),
    ("192.0.2.0/24", "url_reserved"),
    ("198.51.100.0/24", "url_reserved"),
    ("203.0.113.0/24", "url_reserved"),
    ("198.18.0.0/15", "url_reserved"),
    ("192.88.99.0/24", "url_reserved"),
    ("224.0.0.0/4", "url_reserved"),
    ("240.0.0.0/4", "url_reserved"),
)
_V6_RULES = _v6_rules(
    ("::/128", "url_unspecified"),
    ("::1/128", "url_loopback"),
    ("fc00::/7", "url_private"),
    ("fec0::/10", "url_private"),
    ("64:ff9b:1::/48", "url_private"),
    ("fe80::/10", "url_link_local"),
    ("ff00::/8", "url_reserved"),
    ("100::/64", "url_reserved"),
    ("2001:db8::/32", "url_reserved"),
    ("3fff::/20", "url_reserved"),
)
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# Scripts that browsers allow to be mixed with Latin in one label (Japanese,
# Chinese and Korean names routinely do).
_EAST_ASIAN_SCRIPTS = frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})
_SCRIPT_ALIASES = {"IDEOGRAPHIC": "CJK", "KATAKANA-HIRAGANA": "KATAKANA"}
# Lower-case letters that render like Latin letters in common fonts; a label
# made only of these spells a Latin-looking word in another script.
_LATIN_LOOKALIKES = {
    "CYRILLIC": frozenset("асԁеһіјӏорԛѕԝхуүьҽпгѵѡ"),
    "GREEK": frozenset("αικνορυχ"),
}


class _Findings:
    """Collects problems, one per code, in the order found."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[str, UrlProblem] = {}

    def add(self, code: str, message: str | None = None) -> None:
        if code not in self._items:
            self._items[code] = UrlProblem(code, message or _MESSAGES[code])

    def result(self) -> tuple[UrlProblem, ...]:
        return tuple(self._items.values())


def url_problems(value: str, *, policy: str = "basic", allow_data_uri: bool = False) -> tuple[UrlProblem, ...]:
    """Every problem with `value` under `policy`; empty tuple when acceptable.

    `policy` is ``"basic"`` or ``"strict"`` (see the module documentation);
    anything else raises :class:`ValueError`, the only exception this function
    raises. `allow_data_uri` accepts ``data:image/...;base64,...`` URIs (use it
    for edits ``image``/``mask``, never for ``callback_url``).
    """
    if policy not in URL_POLICIES:
        raise ValueError(f"policy must be one of {URL_POLICIES!r}, got {policy!r}")
    if (
        type(value) is str
        and value.startswith(_PLAIN_PREFIXES)
        and len(value) <= _MAX_MEMO_URL
        and value.isascii()
        and value.isprintable()
        and " " not in value
        and "\\" not in value
    ):
        # For such a URL every check past the scheme reads only the authority (see
        # _check_text): path, query and fragment never change the verdict. Services see the same
        # few hosts over and over, so the authority's verdict is memoised.
        head = value[: _first_index(value, "/?#", value.index("//") + 2)]
        return _plain_url_problems(head, policy == "strict")
    return _url_problems_uncached(value, policy, allow_data_uri)


# A URL longer than this is checked afresh each time, so the memo never holds large strings.
_MAX_MEMO_URL = 2048
_PLAIN_PREFIXES = ("https://", "http://")


@functools.lru_cache(maxsize=4096)
def _plain_url_problems(head: str, strict: bool) -> tuple[UrlProblem, ...]:
    found = _Findings()
    _check_text(head, strict, False, found)
    return found.result()


def _url_problems_uncached(value: str, policy: str, allow_data_uri: bool) -> tuple[UrlProblem, ...]:
    found = _Findings()
    if not isinstance(value, str):
        found.add("url_malformed", "The URL must be a string.")
        return found.result()
    if not value.strip():
        found.add("url_empty")
        return found.result()
    if _has_unsafe_chars(value):
        found.add(
            "url_malformed",
            "The URL contains whitespace or control characters; percent-encode them or remove them.",
        )
    text = value.strip(_C0_AND_SPACE).translate(_REMOVED_BY_PARSERS)
    if text:
        _check_text(text, policy == "strict", allow_data_uri, found)
    return found.result()


def _has_unsafe_chars(value: str) -> bool:
    if value.isascii():
        # Same answer, in C: the unsafe ASCII characters are the controls (not printable) and
        # the space (the only ASCII Zs). Almost every real URL takes this path.
        return not value.isprintable() or " " in value
    # Distinct characters are few even in huge inputs, and the per-character
    # test is the expensive part.
    return any(ch.isspace() or unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in set(value))


def _first_index(text: str, chars: str, start: int = 0) -> int:
    """Index of the first of `chars` in `text` at or after `start`, else len."""
    best = len(text)
    for ch in chars:
        index = text.find(ch, start, best)
        if index >= 0:
            best = index
    return best


def _is_scheme(candidate: str) -> bool:
    return bool(candidate) and candidate[0].isascii() and candidate[0].isalpha() and set(candidate) <= _SCHEME_CHARS


def _check_text(text: str, strict: bool, allow_data_uri: bool, found: _Findings) -> None:
    colon = text.find(":")
    if colon <= 0 or not _is_scheme(text[:colon]):
        if text.startswith(_SLASH_PAIRS):
            found.add(
                "url_not_absolute",
                "The URL is scheme-relative (starts with //); it needs a scheme, such as https://.",
            )
        else:
            found.add("url_not_absolute")
        return
    scheme = text[:colon].lower()
    rest = text[colon + 1 :]
    if scheme == "data":
        if not allow_data_uri:
            found.add("url_data_uri_not_allowed")
        elif not _is_valid_image_data_uri(rest):
            found.add("url_data_uri_invalid")
        return
    if scheme not in ("http", "https"):
        if _looks_like_port(rest):
            found.add(
                "url_not_absolute",
                "The URL looks like host:port without a scheme; it needs a scheme, such as https://.",
            )
        elif scheme in _KNOWN_SCHEMES:
            found.add(
                "url_scheme",
                f"The URL scheme must be http or https, not {scheme}.",
            )
        else:
            found.add("url_scheme")
        return
    if strict and scheme == "http":
        found.add("url_not_https")
    if "\\" in rest[: _first_index(rest, "?#")]:
        found.add(
            "url_malformed",
            "The URL contains a backslash before the query, which URL parsers interpret differently.",
        )
    if not rest.startswith("//"):
        found.add("url_no_host")
        return
    authority = rest[2 : _first_index(rest, "/?#\\", 2)]
    hostport = authority
    if "@" in authority:
        userinfo, _, hostport = authority.rpartition("@")
        if strict:
            found.add("url_credentials")
        if "@" in userinfo:
            found.add(
                "url_malformed",
                "The URL has more than one '@' before the host, which URL parsers interpret differently.",
            )
    _check_hostport(hostport, strict, found)


def _looks_like_port(rest: str) -> bool:
    segment = rest[: _first_index(rest, "/?#")]
    return 0 < len(segment) <= 5 and set(segment) <= _DEC_DIGITS


def _is_valid_image_data_uri(rest: str) -> bool:
    comma = rest.find(",")
    if comma < 0 or rest[:comma].lower() not in _DATA_URI_HEADERS:
        return False
    payload = rest[comma + 1 :]
    body = payload.rstrip("=")
    padding = len(payload) - len(body)
    if not body or padding > 2:
        return False
    chars = set(body)
    if not chars <= _B64_CHARS:
        return False
    # A decoder accepts one alphabet or the other, never a mixture.
    if chars & {"+", "/"} and chars & {"-", "_"}:
        return False
    if len(body) % 4 == 1:
        return False
    return not (padding and (len(body) + padding) % 4)


def _check_hostport(hostport: str, strict: bool, found: _Findings) -> None:
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            found.add("url_malformed", "The URL has an unclosed '[' in the host.")
            return
        literal, tail = hostport[1:close], hostport[close + 1 :]
        if "[" in literal or "]" in tail or (tail and not tail.startswith(":")):
            found.add("url_malformed", "The URL has misplaced brackets in the host.")
            return
        _check_port(tail[1:] if tail else None, found)
        address = _parse_ipv6(literal)
        if address is None:
            found.add(
                "url_malformed",
                "The bracketed host is not a valid IPv6 address (zone ids are not accepted).",
            )
        elif strict:
            _check_address(address, found)
        return
    if "[" in hostport or "]" in hostport:
        found.add(
            "url_malformed",
            "The URL has brackets in the host that do not enclose an IPv6 address.",
        )
        return
    host, colon, port = hostport.partition(":")
    if ":" in port:
        found.add(
            "url_malformed",
            "The host contains several colons; IPv6 addresses must be in brackets.",
        )
        return
    _check_port(port if colon else None, found)
    if not host:
        found.add("url_no_host")
        return
    _check_host(host, strict, found)


def _check_port(port: str | None, found: _Findings) -> None:
    # An empty port ("host:") is allowed by RFC 3986 and means the default.
    if not port:
        return
    if len(port) > 5 or not set(port) <= _DEC_DIGITS or not 0 < int(port) < 65536:
        found.add("url_malformed", "The port must be a number from 1 to 65535.")


def _parse_ipv6(literal: str) -> ipaddress.IPv6Address | None:
    # The longest valid form (with an embedded IPv4) has 45 characters; the
    # character test also rejects zone ids ('%') and IPvFuture ('v...').
    if not literal or len(literal) > 45 or not set(literal) <= _IPV6_CHARS:
        return None
    try:
        return ipaddress.IPv6Address(literal)
    except ValueError:
        return None


def _percent_decode(host: str) -> str | None:
    for chunk in host.split("%")[1:]:
        if len(chunk) < 2 or chunk[0] not in _HEX_DIGITS or chunk[1] not in _HEX_DIGITS:
            return None
    try:
        return unquote(host, errors="strict")
    except UnicodeDecodeError:
        return None


def _check_host(raw: str, strict: bool, found: _Findings) -> None:
    host = raw
    if "%" in host:
        if strict:
            found.add("url_host_percent_encoded")
        decoded = _percent_decode(host)
        if decoded is None:
            found.add(
                "url_malformed",
                "The host contains invalid percent-escapes.",
            )
            return
        host = decoded
    written = host.lower()
    if host.isascii():
        host = written
    else:
        # Judge the host a browser, node or curl connects to: UTS #46 maps full-width and
        # compatibility forms and drops invisible code points (variation selectors, the combining
        # grapheme joiner...), so '169.254.169.254\ufe0f' is fetched as 169.254.169.254.
        mapped = map_host(host)
        if mapped is None:
            if strict:
                found.add(
                    "url_idn_invalid",
                    "The host name contains a character that IDNA (UTS #46) disallows; browsers refuse it"
                    " and other clients may read it differently.",
                )
            # The remaining checks still see the compatibility-normalised form.
            mapped = unicodedata.normalize("NFKC", host).lower().replace("\u3002", ".")
        host = mapped
    if any(ch.isascii() and ch not in _HOST_ASCII for ch in set(host)):
        found.add(
            "url_malformed",
            "The host contains characters that cannot appear in a host name.",
        )
        return
    host = host.removesuffix(".")
    if not host:
        found.add("url_no_host")
        return
    labels = host.split(".")
    if not all(labels):
        found.add("url_malformed", "The host name has an empty label.")
        return
    if len(host) > 253 or any(len(label) > 63 for label in labels):
        found.add("url_malformed", "The host name is too long.")
        return
    if _ends_in_number(labels[-1]):
        address = _parse_ipv4(labels)
        if address is None:
            found.add(
                "url_malformed",
                "The host looks like an IPv4 address but is not a valid one.",
            )
        elif strict:
            if not _is_plain_dotted_quad(raw):
                found.add(
                    "url_numeric_host_obfuscated",
                    None
                    if raw.isascii()
                    else "The host is an IPv4 address written with characters that URL parsers map to digits"
                    " and dots or drop (full-width forms, variation selectors, invisible joiners).",
                )
            _check_address(address, found)
        return
    if strict:
        _check_name(labels, written, host, found)


def _ends_in_number(label: str) -> bool:
    # WHATWG URL standard "ends in a number": such hosts are parsed as IPv4.
    if set(label) <= _DEC_DIGITS:
        return True
    return label.startswith("0x") and set(label[2:]) <= _HEX_DIGITS


def _parse_ipv4(parts: list[str]) -> ipaddress.IPv4Address | None:
    """inet_aton / WHATWG IPv4 parsing of already split, non-empty parts."""
    if len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _parse_ipv4_number(part)
        if number is None:
            return None
        numbers.append(number)
    if any(number > 255 for number in numbers[:-1]):
        return None
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _parse_ipv4_number(part: str) -> int | None:
    if part.startswith("0x"):
        digits, base, allowed = part[2:], 16, _HEX_DIGITS
    elif len(part) > 1 and part.startswith("0"):
        digits, base, allowed = part[1:], 8, _OCT_DIGITS
    else:
        digits, base, allowed = part, 10, _DEC_DIGITS
    if not digits:
        return 0
    # Bounding the length keeps int() away from huge inputs; no valid part
    # needs more than 20 digits.
    if len(digits) > 20 or not set(digits) <= allowed:
        return None
    return int(digits, base)


def _is_plain_dotted_quad(raw: str) -> bool:
    parts = raw.removesuffix(".").split(".")
    return len(parts) == 4 and all(
        0 < len(part) <= 3
        and set(part) <= _DEC_DIGITS
        and (part == "0" or not part.startswith("0"))
        and int(part) <= 255
        for part in parts
    )


def _check_address(address: _IPAddress, found: _Findings) -> None:
    for code in _address_codes(address):
        found.add(code)


def _address_codes(address: _IPAddress) -> list[str]:
    codes: list[str] = []
    if address in _METADATA_ADDRESSES:
        codes.append("url_metadata")
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            # Dual-stack sockets connect to the embedded IPv4 address, so that
            # is what decides; ::ffff:8.8.8.8 is as public as 8.8.8.8.
            return codes + _address_codes(embedded)
        codes += [code for net, code in _V6_RULES if address in net]
    else:
        codes += [code for net, code in _V4_RULES if address in net]
    if not codes and (not address.is_global or address.is_multicast or address.is_reserved):
        codes.append("url_reserved")
    return codes


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_WELL_KNOWN or address in _IPV4_TRANSLATED:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def _check_name(labels: list[str], written: str, host: str, found: _Findings) -> None:
    """strict checks of a domain name; `host` is normalised, `written` is not."""
    if len(labels) == 1:
        found.add("url_single_label_host")
    if (
        host == "localhost"
        or host.endswith(".localhost")
        or host in _LOOPBACK_DOMAINS
        or host.endswith(_LOOPBACK_SUFFIXES)
    ):
        found.add(
            "url_loopback",
            "The host is a localhost name, which resolves to the server itself.",
        )
    if len(labels) > 1 and (host.endswith(_INTERNAL_SUFFIXES) or host in _INTERNAL_NAMES):
        found.add("url_internal_host")
    if host in _METADATA_NAMES:
        found.add("url_metadata")
    written = written.replace("\u3002", ".").removesuffix(".")
    if not written.isascii() and unicodedata.normalize("NFC", written) != host:
        found.add(
            "url_idn_confusable",
            "The host name is written with characters that URL parsers map to others or drop "
            "(full-width or compatibility forms, variation selectors, invisible joiners): "
            "it stands for a different name than it shows.",
        )
    _check_wildcard_dns(labels, found)
    for label in labels:
        if label.startswith("xn--"):
            unicode_label = _decode_ace_label(label)
        elif not label.isascii():
            unicode_label = label if _idna_encodable(label) else None
        else:
            continue
        if unicode_label is None:
            found.add("url_idn_invalid")
            continue
        message = _confusable_reason(unicode_label, latin_tld=labels[-1].isascii())
        if message is not None:
            found.add("url_idn_confusable", message)


def _check_wildcard_dns(labels: list[str], found: _Findings) -> None:
    """Under a wildcard-DNS service, judge the address written in the name."""
    for service in _WILDCARD_DNS:
        size = service.count(".") + 1
        if len(labels) > size and ".".join(labels[-size:]) == service:
            address = _written_address(labels[:-size])
            if address is not None:
                codes = _address_codes(address)
                for code in codes:
                    found.add(
                        code,
                        f"The host name is under the wildcard-DNS service {service}, which resolves it to the"
                        f" address written in it; that address is not public ({code.removeprefix('url_')}).",
                    )
            return


def _written_address(labels: list[str]) -> _IPAddress | None:
    """The address a nip.io-style name spells: dotted (a.b.c.d.nip.io, maybe after other labels),
    dashed at the end of the last label (app-10-0-0-1), 8 hex digits (app-0a000001), or an
    sslip.io IPv6 with dashes for colons (--1, fe80--1)."""
    if len(labels) >= 4 and all(0 < len(p) <= 3 and set(p) <= _DEC_DIGITS for p in labels[-4:]):
        parts = [int(p) for p in labels[-4:]]
        if all(p <= 255 for p in parts):
            return ipaddress.IPv4Address(".".join(map(str, parts)))
    last = labels[-1]
    pieces = last.split("-")
    if len(pieces) >= 4 and all(0 < len(p) <= 3 and set(p) <= _DEC_DIGITS for p in pieces[-4:]):
        parts = [int(p) for p in pieces[-4:]]
        if all(p <= 255 for p in parts):
            return ipaddress.IPv4Address(".".join(map(str, parts)))
    if len(pieces[-1]) == 8 and set(pieces[-1]) <= _HEX_DIGITS:
        return ipaddress.IPv4Address(int(pieces[-1], 16))
    if "--" in last:
        address = _parse_ipv6(last.replace("-", ":"))
        if address is not None:
            return address
    return None


def _decode_ace_label(label: str) -> str | None:
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
        if not decoded or decoded.isascii():
            return None
        if decoded.encode("idna").decode("ascii") != label:
            return None
    # The codecs do not document which exceptions hostile input can raise;
    # every one of them just means "not a valid IDN label".
    except Exception:
        return None
    return decoded


def _idna_encodable(label: str) -> bool:
    try:
        label.encode("idna")
    except Exception:  # same reasoning as in _decode_ace_label
        return False
    return True


def _script_of(ch: str) -> str:
    word = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
    return _SCRIPT_ALIASES.get(word, word)


def _confusable_reason(label: str, *, latin_tld: bool) -> str | None:
    scripts: set[str] = set()
    letters: list[str] = []
    for ch in label:
        if ch == "-" or ch in _DEC_DIGITS:
            continue
        category = unicodedata.category(ch)
        if category[0] == "M" or category == "Nd":
            continue
        if category[0] != "L":
            return (
                "An internationalised label of the host name contains a symbol "
                "or punctuation character that can imitate '/', '.' or a letter."
            )
        scripts.add(_script_of(ch))
        letters.append(ch)
    if len(scripts) > 1 and not scripts <= _EAST_ASIAN_SCRIPTS:
        return (
            "An internationalised label of the host name mixes letters from several scripts (e.g. Latin and Cyrillic)."
        )
    # Under a Cyrillic or Greek TLD (.рф, .ελ) the whole name visibly is not
    # Latin, so a label such as "рус" is no imitation; browsers do the same.
    if len(scripts) == 1 and latin_tld:
        lookalikes = _LATIN_LOOKALIKES.get(next(iter(scripts)))
        if lookalikes is not None and set(letters) <= lookalikes:
            return "An internationalised label of the host name consists only of letters that look like Latin letters."
    return None


# ---------------------------------------------------------------------------
# Redaction

_REDACTED = "***"
_MAX_SHOWN = 200
_SECRET_WORDS = frozenset(
    {
        "accesskey",
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "credential",
        "credentials",
        "jwt",
        "key",
        "otp",
        "pass",
        "passwd",
        "password",
        "pwd",
        "secret",
        "session",
        "sig",
        "signature",
        "token",
    }
)
_SECRET_FRAGMENTS = (
    "token",
    "secret",
    "passw",
    "apikey",
    "signature",
    "credential",
    "authorization",
    "privatekey",
    "accesskey",
)


def redact_url(value: str) -> str:
    """`value` safe to show: userinfo replaced by '***', and values of query
    parameters whose names look like secrets (token, key, api_key, apikey,
    access_token, secret, password, sig, signature, auth, authorization,
    credential...) replaced by '***'. Truncate to at most 200 chars (append
    '…'). Never raises.

    Parameter names are split into words at punctuation and camelCase
    boundaries (``X-Amz-Signature``, ``accessToken``, ``api%5Fkey``); a name is
    secret when a word is a secret word or the joined name contains one of
    token/secret/passw/apikey/signature/credential/authorization. Fragment
    parameters (``#access_token=...``) are redacted the same way. Control and
    whitespace characters are shown as escapes so the result is safe in logs.
    The result, including the trailing '…', is at most 200 characters.
    """
    try:
        text = value if isinstance(value, str) else str(value)
        shown = _escape_unsafe(_redact(text)[: _MAX_SHOWN + 1])
        if len(shown) > _MAX_SHOWN:
            shown = shown[: _MAX_SHOWN - 1] + "…"
        return shown
    except Exception:
        # Last resort, so that logging a hostile value can never fail.
        return _REDACTED


def _redact(text: str) -> str:
    colon = text.find(":")
    after = colon + 1 if colon > 0 and _is_scheme(text[:colon]) else 0
    start = after + 2 if text[after : after + 2] in _SLASH_PAIRS else 0
    end = _first_index(text, "/\\?#", start)
    at = text.rfind("@", start, end)
    if at >= 0:
        # Without '//' the "scheme" may itself be a user name (user:pw@host),
        # so everything before the '@' goes.
        text = text[:start] + _REDACTED + text[at:]
        end = start + len(_REDACTED) + (end - at)
    hash_index = text.find("#", end)
    head, fragment = (text, None) if hash_index < 0 else (text[:hash_index], text[hash_index + 1 :])
    question = head.find("?", end)
    if question >= 0:
        head = head[: question + 1] + _redact_params(head[question + 1 :])
    if fragment is None:
        return head
    if "=" in fragment:
        fragment = _redact_params(fragment)
    return f"{head}#{fragment}"


def _redact_params(query: str) -> str:
    return "&".join(";".join(_redact_param(param) for param in pair.split(";")) for pair in query.split("&"))


def _redact_param(param: str) -> str:
    name, equals, val = param.partition("=")
    if equals and val and _is_secret_name(name):
        return f"{name}={_REDACTED}"
    return param


def _is_secret_name(name: str) -> bool:
    name = unquote_plus(name)
    words: list[str] = []
    current: list[str] = []
    previous_lower = False
    for ch in name:
        if ch.isascii() and ch.isalnum():
            if ch.isupper() and previous_lower and current:
                words.append("".join(current))
                current = []
            current.append(ch.lower())
            previous_lower = not ch.isupper()
        else:
            if current:
                words.append("".join(current))
                current = []
            previous_lower = False
    if current:
        words.append("".join(current))
    if any(word in _SECRET_WORDS for word in words):
        return True
    joined = "".join(words)
    return any(fragment in joined for fragment in _SECRET_FRAGMENTS)


def _escape_unsafe(text: str) -> str:
    if not _has_unsafe_chars(text):
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if ch.isspace() or unicodedata.category(ch) in _UNSAFE_CATEGORIES
        else ch
        for ch in text
    )
