"""How a finding message may show a value from a request.

Messages quote what the caller sent so they can find it, but a request is untrusted input: a
value may be megabytes long, contain control characters, or carry a secret pasted into the wrong
field. Every message goes through `describe`, which is short, printable and never repeats
something that looks like a credential; request keys shown in `param` go through
`escape_unprintable` (and `looks_secret`) in the engine.

What counts as a credential (`looks_secret`), judged on the first 4,096 characters:

* an authorization scheme followed by a token (`Bearer x`), or a header or assignment naming one
  (`Authorization:`, `api_key=`, `x-api-key:`, `token=`, `password:`, `secret=`, `cookie:` ...);
* a key with a well-known prefix: OpenAI/Anthropic/Stripe-style `sk-`, `sk_`, `rk_`, GitHub
  `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`, Slack `xox?-`, AWS `AKIA`/`ASIA`, Google
  `AIza`, Hugging Face `hf_`, GitLab `glpat-`, and JSON Web Tokens (`eyJ` + base64url);
* a run of at least 16 ASCII letters and digits mixing upper case, lower case and digits (random
  API keys, base64 of `user:password`), or of at least 32 hexadecimal digits mixing letters and
  digits (hex keys and hashes).

A false positive costs little: the message says the value was not shown. Every pattern is a
single pass with no nested or overlapping quantifiers, so the scan is linear.
"""

from __future__ import annotations

import re

__all__ = ["describe", "escape_unprintable", "looks_secret", "plausible_token"]

_SCAN = 4096

# Every shape of a credential, as the word it starts with (lower case) and its pattern. The words
# are a cheap test run first: a text holding none of them cannot match any pattern (so the regular
# expression runs only on the few texts that might).
_SHAPES: tuple[tuple[str, str], ...] = (
    ("bearer", r"\bbearer\s+\S"),
    ("sk", r"\bsk[-_][a-z0-9_-]{8}"),
    ("rk", r"\brk[-_][a-z0-9_-]{8}"),
    ("gh", r"\bgh[pousr]_[a-z0-9]{16}"),
    ("github_pat_", r"\bgithub_pat_[a-z0-9_]{16}"),
    ("xox", r"\bxox[abposr]-[a-z0-9-]{8}"),
    ("akia", r"\bakia[a-z0-9]{16}"),
    ("asia", r"\basia[a-z0-9]{16}"),
    ("aiza", r"\baiza[a-z0-9_-]{20}"),
    ("hf_", r"\bhf_[a-z0-9]{16}"),
    ("glpat-", r"\bglpat-[a-z0-9_-]{16}"),
    ("eyj", r"\beyj[a-z0-9_-]{8}"),
    ("key", r"(?:api|access)[_-]?key\s*[=:]"),
    ("secret", r"secret\s*[=:]"),
    ("token", r"token\s*[=:]"),
    ("passw", r"passw(?:or)?d\s*[=:]"),
    ("pwd", r"pwd\s*[=:]"),
    ("authorization", r"authorization\s*[=:]"),
    ("credential", r"credentials?\s*[=:]"),
    ("cookie", r"cookie\s*[=:]"),
)
_SECRET_WORDS = tuple(word for word, _ in _SHAPES)
# Compiling this alternation takes about 1 ms, and few processes ever need it (only for a text
# holding one of the words above): so it is passed to re.search as a string, which compiles it on
# first use and keeps it in re's own cache, rather than at every import (docs/startup.md).
_SECRET = "(?i)(?:" + "|".join(pattern for _, pattern in _SHAPES) + ")"


# Runs of letters and digits; each is judged by `_random_looking`. No quantifier follows the run,
# so a failed candidate costs nothing extra.
_RUN = re.compile(r"[A-Za-z0-9]{16,}")
_HEX_DIGITS = "0123456789abcdefABCDEF"


def _random_looking(run: str) -> bool:
    # `run` is ASCII letters and digits only, so these str methods (C loops) say what it mixes.
    has_digit = not run.isalpha()
    has_lower = run.upper() != run
    has_upper = run.lower() != run
    if has_digit and has_lower and has_upper:
        return True
    return len(run) >= 32 and has_digit and not run.isdigit() and not run.strip(_HEX_DIGITS)


def looks_secret(text: str) -> bool:
    """Whether `text` (its first 4,096 characters) looks like it carries a credential.

    >>> looks_secret("Bearer abc.def"), looks_secret("sk-proj-0123456789"), looks_secret("1024x1024")
    (True, True, False)
    """
    head = text[:_SCAN]
    lowered = head.lower()
    # The pattern tries a dozen alternatives at every position; substring tests (C loops) skip it
    # for the usual text that contains none of the words or prefixes it starts with.
    if any(word in lowered for word in _SECRET_WORDS) and re.search(_SECRET, head) is not None:
        return True
    return any(_random_looking(match.group()) for match in _RUN.finditer(head))


# What a plausible parameter value or request key may be written with, beyond letters and digits
# (any script: look-alikes are worth showing) and characters shown escaped. No ':' '/' '@' '=' '?'
# '%' '+' '#': a URL, a DSN or an assignment is never quoted, whatever its shape.
_TOKEN_PUNCTUATION = frozenset("-_. ×")
_MAX_TOKEN = 32
# Runs of ASCII letters and digits: one of at least 8 mixing letters and digits (other than a size,
# 1024x1024) or of at least 12 mixing upper and lower case looks like a key, not a value.
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]{8,}")
_SIZE_RUN = re.compile(r"[0-9]+[xX][0-9]+")


def plausible_token(text: str, max_length: int = _MAX_TOKEN) -> bool:
    """Whether `text` may be quoted back as a parameter value or key: short, from the alphabet of
    parameter values (letters, digits, - _ . space), and not shaped like a key (a long run mixing
    letters and digits, or upper and lower case). Anything else is described by kind and length.

    >>> plausible_token("1024X1024"), plausible_token("nano-banana-pro"), plausible_token("hіgh")
    (True, True, True)
    >>> plausible_token("https://admin:hunter2@db"), plausible_token("k3j9x0q2m5n8p1r4t7v6w2y9")
    (False, False)
    >>> plausible_token("123e4567-e89b-42d3-a456-556642440000")
    False
    """
    if len(text) > max_length:
        return False
    for ch in text:
        if not (ch.isalnum() or ch in _TOKEN_PUNCTUATION or not ch.isprintable()):
            return False
    for match in _ALNUM_RUN.finditer(text):
        run = match.group()
        if _SIZE_RUN.fullmatch(run):
            continue
        has_digit = not run.isalpha()
        if has_digit and not run.isdigit():
            return False
        if len(run) >= 12 and run.lower() != run and run.upper() != run:
            return False
    return not looks_secret(text)


def escape_unprintable(text: str) -> str:
    """`text` with every non-printable character (controls, bidi and zero-width format characters,
    line and paragraph separators) written as a Python escape, so that printing it can neither
    start a new line nor reorder or hide what follows.

    >>> escape_unprintable("size\\n\\u202etxt")
    'size\\\\n\\\\u202etxt'
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _string_kind(value: str) -> str:
    """What a string that is not quoted looks like, without any of its text."""
    head = value[:_SCAN].lstrip()
    scheme, colon, rest = head.partition(":")
    if colon and scheme and scheme.isascii() and scheme.replace("+", "").replace("-", "").isalnum():
        if rest.startswith("//"):
            return "a URL" if "@" not in rest.split("/", 3)[2] else "a URL with credentials"
        return "text with a colon"
    if not head:
        return "blank"
    if any(ch.isspace() for ch in head):
        return "text"
    return "a single word"


def describe(value: object) -> str:
    """A short, safe description of a JSON-like value for a message.

    >>> describe(True), describe(2.0), describe("1024X1024"), describe([1, 2])
    ('the boolean true', 'the number 2.0', "the string '1024X1024'", 'an array')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        if -(10**30) < value < 10**30:
            return f"the integer {value}"
        # str() of a huge int is slow and raises past 4,300 digits; the size is what matters.
        return f"an integer of about {abs(value).bit_length() * 30103 // 100000 + 1:,} digits"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        if looks_secret(value):
            return f"a string of {len(value):,} characters that looks like a credential (not shown)"
        if not plausible_token(value):
            # Quoted only when it could be a value of a parameter; a URL, a DSN or a key pasted
            # into the wrong field is described, never repeated (it may carry a password).
            return f"a string of {len(value):,} characters ({_string_kind(value)}; not shown)"
        return f"the string {value!r}"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
