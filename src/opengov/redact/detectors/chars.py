"""Character classes shared by the prefilters, written so RE2 and Python `re` both read them.

A prefilter runs as RE2 over columns (`pyarrow.compute`) and as Python `re` over single
strings, and both must select the same cells; so the classes are explicit character lists
(no `\\p{..}`, no `\\s`, whose meaning differs between the two engines). tests/
test_detect_forms.py checks these lists against `unicodedata` and `normalise.norm_char`.
"""

from __future__ import annotations

# Every whitespace character (str.isspace, and categories Zs, Zl, Zp).
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Whitespace on one line (what may stand between the two parts of a postcode).
LINE_SPACES = "".join(c for c in SPACES if c not in "\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029")
# Every dash: category Pd and the minus signs and hyphen look-alikes readers take for one.
DASHES = (
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b"
    "\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
    "\u2212\u2043\u02d7\u2796"
)


def members(chars: str) -> str:
    """`chars` escaped for use inside a character class, in RE2 and Python `re` alike."""
    return "".join("\\" + c if c in "\\]^-[" else c for c in chars)


SP = f"[{members(SPACES)}]"
LINE_SP = f"[{members(LINE_SPACES)}]"
DASH = f"[{members(DASHES)}]"
