"""How a finding message may show a value from a request.

Messages quote what the caller sent so they can find it, but a request is untrusted input: a
value may be megabytes long, contain control characters, or carry a secret pasted into the wrong
field. Every message goes through `describe`, which is short, printable and never repeats
something that looks like a credential.
"""

from __future__ import annotations

import re

__all__ = ["describe", "looks_secret"]

_MAX_SHOWN = 40

# Bearer tokens, OpenAI-style keys (sk-..., sk-proj-...), and generic long key-like runs. Bounded
# quantifiers with no nesting keep the scan linear.
_SECRET = re.compile(r"(?i)(?:bearer\s+\S|\bsk-[a-z0-9_-]{8,}|\b(?:api[_-]?key|token|secret|password)\s*[=:])")


def looks_secret(text: str) -> bool:
    return _SECRET.search(text[:4096]) is not None


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
            return f"a string of {len(value)} characters that looks like a credential (not shown)"
        shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"
        return f"the string {shown!r}" + ("" if len(value) <= _MAX_SHOWN else f" ({len(value):,} characters)")
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
