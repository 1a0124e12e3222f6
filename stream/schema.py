"""The `news.raw` message contract: parse and validate one record into a `NewsItem`, or say why not.

Pure functions only; the agent decides what happens to a rejection (it goes to `news.dlq`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
    field_validator,
)

from model.text import extract_cashtags

MAX_RECORD_BYTES = 1024 * 1024
MAX_HEADLINE_CHARS = 2_000
TITLE_FROM_BODY_CHARS = 200

# Tickers written as one string (a CSV cell, a JSON string): split on spaces, commas, ; and |.
_TICKER_SEPARATORS = re.compile(r"[\s,;|]+")


class RejectReason(StrEnum):
    """Why a record was sent to the dead-letter topic; also the metric label."""

    too_large = "too_large"
    invalid_utf8 = "invalid_utf8"
    invalid_json = "invalid_json"
    not_an_object = "not_an_object"
    invalid_field = "invalid_field"
    missing_text = "missing_text"
    empty_text = "empty_text"
    headline_too_long = "headline_too_long"
    # Valid by the contract, but PostgreSQL refused to store it (a constraint, a type limit).
    storage_refused = "storage_refused"


class InvalidRecord(ValueError):
    """A `news.raw` record that breaks the contract; `reason` is machine-readable."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class NewsItem:
    """A valid news item, normalised: trimmed text, upper-case tickers, an aware `published_at`."""

    id: str
    headline: str | None
    body: str | None
    source: str
    published_at: datetime
    url: str | None
    lang: str | None
    tickers: tuple[str, ...]

    @property
    def title(self) -> str:
        """What a person reads in a list: the headline, or the start of the body."""
        if self.headline is not None:
            return self.headline
        assert self.body is not None  # noqa: S101 - guaranteed by parse_news
        return self.body[:TITLE_FROM_BODY_CHARS]


_Label = Annotated[StrictStr, StringConstraints(max_length=200)]
_Url = Annotated[StrictStr, StringConstraints(max_length=2048)]
_Lang = Annotated[StrictStr, StringConstraints(max_length=35)]
_Ticker = Annotated[StrictStr, StringConstraints(max_length=16)]


class _RawItem(BaseModel):
    # Length caps keep every value storable and indexable (a btree entry must stay under ~2.7 kB).
    model_config = ConfigDict(extra="ignore", frozen=True)

    headline: StrictStr | None = None
    body: StrictStr | None = None
    id: _Label | None = None
    source: _Label | None = None
    published_at: datetime | None = None
    url: _Url | None = None
    lang: _Lang | None = None
    tickers: Annotated[list[_Ticker], Field(max_length=50)] | None = None

    @field_validator("headline", "body", "id", "source", "url", "lang", mode="after")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is not None:
            _check_storable(value)
        return value

    @field_validator("tickers", mode="after")
    @classmethod
    def _storable_tickers(cls, value: list[str] | None) -> list[str] | None:
        for ticker in value or []:
            _check_storable(ticker)
        return value

    @field_validator("published_at", mode="before")
    @classmethod
    def _iso_with_zone(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 string")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as e:
            raise ValueError(f"not ISO 8601: {value[:40]!r}") from e
        if parsed.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-01-02T15:04:05Z")
        return parsed


def split_tickers(text: str) -> list[str]:
    """`"AAPL, msft;$NWF"` -> `["AAPL", "msft", "$NWF"]`; `_merge_tickers` normalises them."""
    return [t for t in _TICKER_SEPARATORS.split(text) if t]


def item_id(source: str, url: str | None, headline: str) -> str:
    """The stable id of an item sent without one: a hash of source + url, else source + text."""
    key = f"{source}\x1f{url}" if url else f"{source}\x1f{headline}"
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


def parse_news(value: bytes, *, default_published_at: datetime) -> NewsItem:
    """Parse one `news.raw` value; raise `InvalidRecord` naming the first rule it breaks."""
    if len(value) > MAX_RECORD_BYTES:
        raise InvalidRecord(RejectReason.too_large, f"{len(value)} bytes > {MAX_RECORD_BYTES}")
    try:
        # The hot path: pydantic parses and validates the bytes in one pass.
        raw = _RawItem.model_validate_json(value)
    except ValidationError as e:
        if e.errors()[0]["type"] not in ("json_invalid", "model_type", "model_attributes_type"):
            raise _invalid_field(e) from e
        # Not a JSON object to pydantic: Python's own parser says precisely why (rare, slower).
        return item_from_mapping(_json_object(value), default_published_at=default_published_at)
    return _item(raw, default_published_at)


def _json_object(value: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(value.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InvalidRecord(RejectReason.invalid_utf8, str(e)) from e
    except json.JSONDecodeError as e:
        raise InvalidRecord(RejectReason.invalid_json, str(e)) from e
    if not isinstance(obj, dict):
        raise InvalidRecord(RejectReason.not_an_object, f"got a JSON {type(obj).__name__}")
    return obj


def _invalid_field(error: ValidationError) -> InvalidRecord:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "item"
    return InvalidRecord(RejectReason.invalid_field, f"{field}: {first['msg']}")


def item_from_mapping(obj: dict[str, Any], *, default_published_at: datetime) -> NewsItem:
    """Validate an already-decoded JSON object (used by `finsent produce`)."""
    try:
        raw = _RawItem.model_validate(obj)
    except ValidationError as e:
        raise _invalid_field(e) from e
    return _item(raw, default_published_at)


def _item(raw: _RawItem, default_published_at: datetime) -> NewsItem:
    headline = _trimmed(raw.headline)
    body = _trimmed(raw.body)
    if raw.headline is None and raw.body is None:
        raise InvalidRecord(RejectReason.missing_text, "needs a `headline` or a `body`")
    if headline is None and body is None:
        raise InvalidRecord(RejectReason.empty_text, "headline and body are empty after trimming")
    if headline is not None and len(headline) > MAX_HEADLINE_CHARS:
        raise InvalidRecord(
            RejectReason.headline_too_long, f"{len(headline)} chars > {MAX_HEADLINE_CHARS}"
        )
    source = _trimmed(raw.source) or "unknown"
    url = _trimmed(raw.url)
    title = headline if headline is not None else (body or "")[:TITLE_FROM_BODY_CHARS]
    tickers = _merge_tickers(raw.tickers or [], f"{headline or ''} {body or ''}")
    return NewsItem(
        id=_trimmed(raw.id) or item_id(source, url, title),
        headline=headline,
        body=body,
        source=source,
        published_at=raw.published_at or default_published_at,
        url=url,
        lang=_trimmed(raw.lang),
        tickers=tickers,
    )


def _check_storable(value: str) -> None:
    # PostgreSQL text holds neither NUL nor lone surrogates; either would fail a whole batch.
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("contains an unpaired surrogate (\\ud800-\\udfff)") from e


def _trimmed(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def _merge_tickers(given: list[str], text: str) -> tuple[str, ...]:
    cleaned = (t.strip().lstrip("$").upper() for t in given)
    return tuple(dict.fromkeys([*(t for t in cleaned if t), *extract_cashtags(text)]))
