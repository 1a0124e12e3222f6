"""A synthetic news feed from our own templates: fictional companies, all 20 topics, all three
sentiments, event timestamps laid over any period, and scripted negative bursts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from model.labels import TOPICS

COMPANIES = [
    ("Northwind Foods", "NWF"),
    ("Contoso Systems", "CTSO"),
    ("Fabrikam Motors", "FBKM"),
    ("Tailspin Air", "TSPN"),
    ("Litware Bank", "LWB"),
    ("Adatum Energy", "ADTM"),
    ("Woodgrove Mining", "WGM"),
    ("Proseware Health", "PRSW"),
    ("Wingtip Retail", "WTR"),
    ("Lucerne Media", "LCRN"),
]

# (negative, neutral, positive) templates per topic, in model.labels.TOPICS order;
# {co} company, {t} ticker, {n} a number.
_TEMPLATE_ROWS: tuple[tuple[str, str, str], ...] = (
    (  # Analyst Update
        "Analysts cut {co} to sell, see {n}% downside ${t}",
        "Analyst keeps {co} at hold, target unchanged ${t}",
        "{co} upgraded to buy on strong demand outlook ${t}",
    ),
    (  # Fed | Central Banks
        "Fed signals more hikes as inflation refuses to cool",
        "Central bank minutes due Wednesday, officials split on timing",
        "Fed hints at rate cuts as inflation eases faster than expected",
    ),
    (  # Company | Product News
        "{co} recalls {n},000 units over safety defect ${t}",
        "{co} to unveil new product line at annual event ${t}",
        "{co} launch draws record preorders ${t}",
    ),
    (  # Treasuries | Corporate Debt
        "{co} bonds slump as downgrade to junk looms ${t}",
        "{co} prices {n}-year notes in routine refinancing ${t}",
        "{co} debt rallies after balance-sheet repair ${t}",
    ),
    (  # Dividend
        "{co} suspends dividend to preserve cash ${t}",
        "{co} declares regular quarterly dividend ${t}",
        "{co} raises dividend {n}% and expands buyback ${t}",
    ),
    (  # Earnings
        "{co} misses estimates and cuts full-year guidance ${t}",
        "{co} to report quarterly results after the close ${t}",
        "{co} beats estimates, lifts outlook on strong sales ${t}",
    ),
    (  # Energy | Oil
        "Oil slides {n}% as demand fears deepen",
        "Oil steady ahead of producer group meeting",
        "Oil jumps {n}% as supply tightens",
    ),
    (  # Financials
        "{co} hit by loan losses, shares tumble ${t}",
        "{co} completes scheduled capital review ${t}",
        "{co} posts record trading revenue ${t}",
    ),
    (  # Currencies
        "Dollar slumps to {n}-month low on growth worries",
        "Euro little changed ahead of inflation data",
        "Yen rallies strongly as traders price in policy shift",
    ),
    (  # General News | Opinion
        "Opinion: the warning signs in this market are piling up",
        "What to watch in markets this week",
        "Opinion: why the recovery has further to run",
    ),
    (  # Gold | Metals | Materials
        "Copper sinks as factory data disappoints",
        "Gold holds near {n} dollars an ounce",
        "Gold surges to record as buyers pile in",
    ),
    (  # IPO
        "{co} pulls planned IPO amid market turmoil ${t}",
        "{co} files paperwork for a listing ${t}",
        "{co} IPO prices above range, shares pop {n}% ${t}",
    ),
    (  # Legal | Regulation
        "Regulators sue {co} over misleading disclosures ${t}",
        "{co} responds to routine regulatory inquiry ${t}",
        "{co} wins dismissal of lawsuit ${t}",
    ),
    (  # M&A | Investments
        "{co} deal collapses after regulators object ${t}",
        "{co} said to explore options for a unit ${t}",
        "{co} agrees to be acquired at a {n}% premium ${t}",
    ),
    (  # Macro
        "Economy shrinks unexpectedly as consumer spending falls",
        "Jobs report due Friday, economists expect modest gains",
        "Economy grows faster than forecast on strong hiring",
    ),
    (  # Markets
        "Stocks tumble as recession fears grip markets",
        "Stocks mixed in quiet trading ahead of holiday",
        "Stocks rally to record highs as earnings impress",
    ),
    (  # Politics
        "Budget standoff threatens shutdown, markets on edge",
        "Lawmakers return to debate spending bill",
        "Lawmakers strike deal, ending budget standoff",
    ),
    (  # Personnel Change
        "{co} chief executive resigns amid accounting probe ${t}",
        "{co} names new finance chief ${t}",
        "{co} hires celebrated turnaround chief as CEO ${t}",
    ),
    (  # Stock Commentary
        "Why {co} stock could fall another {n}% ${t}",
        "Is {co} stock a hold here? ${t}",
        "Why {co} stock is a top pick for the year ${t}",
    ),
    (  # Stock Movement
        "{co} shares plunge {n}% after profit warning ${t}",
        "{co} shares flat in early trading ${t}",
        "{co} shares soar {n}% to all-time high ${t}",
    ),
)
TEMPLATES: dict[str, tuple[str, str, str]] = dict(zip(TOPICS, _TEMPLATE_ROWS, strict=True))

SENTIMENT_WEIGHTS = (0.2, 0.55, 0.25)  # negative, neutral, positive in ordinary traffic


@dataclass(frozen=True)
class Burst:
    """A scripted run of negative news about one topic (and one company) in event time."""

    topic: str
    ticker: str | None
    at_s: float
    length_s: float
    share: float = 0.6

    def __post_init__(self) -> None:
        if self.topic not in TEMPLATES:
            raise ValueError(f"burst topic {self.topic!r} is not one of the 20 topics")
        known = [t for _, t in COMPANIES]
        if self.ticker is not None and self.ticker not in known:
            raise ValueError(f"burst ticker {self.ticker!r} is not one of {', '.join(known)}")
        if not 0 < self.share <= 1:
            raise ValueError(f"burst share must be in (0, 1], got {self.share}")

    def active(self, offset_s: float) -> bool:
        return self.at_s <= offset_s < self.at_s + self.length_s


@dataclass(frozen=True)
class FeedPlan:
    """`count` items (0: endless), `spacing_s` event seconds apart from `start`."""

    start: datetime
    spacing_s: float
    count: int = 0
    burst: Burst | None = None
    seed: int = 7
    run_id: str = ""  # part of every id: the same seed in a new run gives new ids


def synthetic_feed(plan: FeedPlan) -> Iterator[dict[str, Any]]:
    """JSON-ready `news.raw` items, deterministic for a given plan."""
    rng = random.Random(plan.seed)  # noqa: S311 - test data, not security
    i = 0
    while plan.count == 0 or i < plan.count:
        offset_s = i * plan.spacing_s
        when = plan.start + timedelta(seconds=offset_s)
        in_burst = plan.burst is not None and plan.burst.active(offset_s)
        if in_burst and plan.burst is not None and rng.random() < plan.burst.share:
            item = _item(rng, plan.burst.topic, 0, plan.burst.ticker)
        else:
            topic = rng.choice(list(TEMPLATES))
            sentiment = rng.choices((0, 1, 2), weights=SENTIMENT_WEIGHTS)[0]
            item = _item(rng, topic, sentiment, None)
        run = f"{plan.run_id}-" if plan.run_id else ""
        item.update(id=f"syn-{run}{plan.seed}-{i}", published_at=when.isoformat())
        yield item
        i += 1


def _item(rng: random.Random, topic: str, sentiment: int, ticker: str | None) -> dict[str, Any]:
    company, symbol = (
        next(c for c in COMPANIES if c[1] == ticker) if ticker else rng.choice(COMPANIES)
    )
    template = TEMPLATES[topic][sentiment]
    headline = template.format(co=company, t=symbol, n=rng.randint(2, 40))
    source = rng.choice(("synthetic-wire", "synthetic-desk", "synthetic-blog"))
    return {"headline": headline, "source": source}
