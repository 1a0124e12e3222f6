"""The one text normalisation used at training and at run time, so both see the same input."""

from __future__ import annotations

import html
import re
import unicodedata

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# A cashtag: `$` then 1-6 letters, optionally a share-class suffix (`$BRK.B`).
_CASHTAG = re.compile(r"\$([A-Za-z]{1,6}(?:\.[A-Za-z]{1,2})?)(?![A-Za-z])")
_SPACE = re.compile(r"\s+")


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
