"""The one text normalisation used at training and at run time, so both see the same input."""

from __future__ import annotations

import html
import re
import unicodedata

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# The one cashtag rule: `$` then a letter and up to 5 letters or digits, optionally a share class
# (`$BRK.B`, `$RDS-A`); a leading digit (`$100`) is money, not a ticker. The worker tags tickers
# with it and the encoder sees each cashtag written one way.
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{0,5}(?:[.\-][A-Za-z]{1,2})?)\b")
_SPACE = re.compile(r"\s+")


def extract_cashtags(text: str) -> list[str]:
    """Cashtags in `text` as tickers (`$aapl` -> `AAPL`), in order of appearance, once each."""
    if "$" not in text:  # most headlines: skip the regex (the worker's hot path)
        return []
    return list(dict.fromkeys(m.upper() for m in _CASHTAG.findall(text)))


def normalize_text(text: str) -> str:
    """Return `text` cleaned for the encoder.

    Decodes HTML entities (twice, since feeds often double-escape `&amp;amp;`), folds Unicode
    compatibility forms (non-breaking spaces, full-width characters), drops links (t.co links
    carry no meaning and differ on every re-post), writes cashtags one way (`$aapl` -> `$AAPL`),
    strips spreadsheet-escape apostrophes at the start and collapses whitespace.
    """
    text = html.unescape(html.unescape(text))
    text = unicodedata.normalize("NFKC", text)
    text = _URL.sub(" ", text)
    text = _CASHTAG.sub(lambda m: "$" + m.group(1).upper(), text)
    text = _SPACE.sub(" ", text).strip()
    return text.lstrip("'").strip()
