"""What a leaderboard accepts as text: entry names (case-folded slugs, no lookalikes of built-ins) and
free text (valid UTF-8 without control characters, lone surrogates or direction overrides).

Every refusal is a one-line `SubmissionError` that says which field and why.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable

from ..errors import SubmissionError

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
# Characters that render as nothing, reorder text or break lines: refused anywhere in a manifest or entry.
INVISIBLE = {"\u2028", "\u2029", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
             *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
# Glyphs that pass for one another in a name (after case folding and without hyphens).
CONFUSABLE = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"), ("3", "e"), ("8", "b"))


def check_text(value: Any, where: str = "manifest") -> None:
    """Every string in `value` (keys too, recursively) is UTF-8 text without control characters."""
    if isinstance(value, str):
        for ch in value:
            code = ord(ch)
            if 0xD800 <= code <= 0xDFFF:
                raise SubmissionError(f"{where} contains a lone surrogate (U+{code:04X}); text must be valid UTF-8")
            if unicodedata.category(ch) == "Cc" or ch in INVISIBLE:
                raise SubmissionError(f"{where} contains a control character (U+{code:04X}); "
                                      "text must not contain control or invisible characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"{where} key")
            check_text(item, f"{where}.{key}" if isinstance(key, str) and key.isidentifier() else f"{where}[...]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_text(item, f"{where}[{i}]")


def skeleton(name: str) -> str:
    """What a name looks like: case-folded, without hyphens, confusable glyphs merged."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("-", "").replace("_", "").replace(".", "")
    for a, b in CONFUSABLE:
        text = text.replace(a, b)
    return text


def entry_name(name: Any, reserved: Iterable[str] = ()) -> str:
    """The case-folded slug an entry is filed under; refuses other alphabets and lookalikes of `reserved` names."""
    if not isinstance(name, str):
        raise SubmissionError(f"method name must be text, got {type(name).__name__}")
    check_text(name, "method name")
    folded = name.casefold()
    if not SLUG.fullmatch(folded):
        raise SubmissionError(f"method name {name[:40]!r} must be a slug: lower-case letters, digits and hyphens, "
                              "starting with a letter or digit, at most 64 characters")
    taken = {skeleton(r): r for r in reserved}
    clash = taken.get(skeleton(folded))
    if clash is not None:
        raise SubmissionError(f"method name {name!r} looks like the built-in {clash!r}; name your method differently")
    return folded
