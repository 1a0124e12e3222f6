"""How search text splits into web-search words and prefix terms (no database)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from monitor.storage.headline_search import SearchTerms, search_terms


def test_plain_words_pass_through() -> None:
    assert search_terms('rate cut "guidance" -hike OR $AAPL') == SearchTerms(
        'rate cut "guidance" -hike OR $AAPL', ()
    )


def test_prefix_terms_come_out_outside_quotes_only() -> None:
    terms = search_terms('"rate cu*" Downgr* guid* guid* -excl* x* a*b')
    assert terms.prefixes == ("downgr", "guid")
    assert '"rate cu*"' in terms.words and "-excl*" in terms.words
    assert "Downgr" not in terms.words and "x*" in terms.words


@given(st.text(max_size=60))
def test_prefixes_are_only_word_characters_and_nothing_holds_nul(text: str) -> None:
    terms = search_terms(text)
    assert "\x00" not in terms.words
    for prefix in terms.prefixes:
        assert re.fullmatch(r"\w{2,}", prefix)
