"""The one text normalisation used at training and at run time, so both see the same input."""

from __future__ import annotations

import html
import re
import unicodedata

# Recorded in every exported artifact: a model is only right for the normalisation it was
# trained with, so the version changes whenever `normalize_text`'s output does.
NORMALIZATION = "model.text.normalize_text/2"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# The one cashtag rule: `$` then a letter and up to 5 letters or digits, optionally a share class
# (`$BRK.B`, `$RDS-A`); a leading digit (`$100`) is money, not a ticker. The worker tags tickers
# with it, and the encoder sees each cashtag as the plain ticker a news headline would print.
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{0,5}(?:[.\-][A-Za-z]{1,2})?)\b")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
# Wire-service markup: instrument codes (`<JNJ.N>`, `<.SPX>`, `<EUR=>`) and story ids (`[nL4N2X0]`).
_WIRE_CODE = re.compile(r"<[A-Z0-9.=^_\-]{1,20}>|\[n[A-Z0-9]{6,20}\]")
_SPACE = re.compile(r"\s+")
# Emoji and pictographs (Unicode "other symbol"), skin-tone modifiers, joiners, variation selectors.
_DROPPED_CATEGORIES = frozenset({"So", "Sk", "Cs"})
_DROPPED_CHARS = frozenset({"\u200d", "\ufe0e", "\ufe0f"})


def extract_cashtags(text: str) -> list[str]:
    """Cashtags in `text` as tickers (`$aapl` -> `AAPL`), in order of appearance, once each."""
    if "$" not in text:  # most headlines: skip the regex (the worker's hot path)
        return []
    return list(dict.fromkeys(m.upper() for m in _CASHTAG.findall(text)))


def normalize_text(text: str) -> str:
    """Return `text` cleaned for the encoder.

    Decodes HTML entities (twice, since feeds often double-escape `&amp;amp;`), folds Unicode
    compatibility forms (non-breaking spaces, full-width characters), then removes what tweets
    carry and news does not, so the model reads both alike: links (they differ on every re-post),
    emoji, `#` of hashtags, `$` of cashtags (`$aapl` -> `AAPL`) and wire-service codes. Strips
    spreadsheet-escape apostrophes at the start and collapses whitespace.
    """
    text = html.unescape(html.unescape(text))
    text = unicodedata.normalize("NFKC", text)
    text = _URL.sub(" ", text)
    text = _WIRE_CODE.sub(" ", text)
    text = _CASHTAG.sub(lambda m: m.group(1).upper(), text)
    text = _HASHTAG.sub(r"\1", text)
    if not text.isascii():
        text = "".join(" " if _is_dropped(c) else c for c in text)
    text = _SPACE.sub(" ", text).strip()
    return text.lstrip("'").strip()


def _is_dropped(char: str) -> bool:
    return char in _DROPPED_CHARS or unicodedata.category(char) in _DROPPED_CATEGORIES
