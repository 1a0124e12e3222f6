"""An alert's reason in one sentence, from the numbers of the evaluation that fired it.

The same words go into the webhook body, the log line, `finsent alerts show`, the dashboard and
the backtest, and are stored with the alert, so every place tells the same story.
"""

from __future__ import annotations

from monitor.alerting.detector import Evaluation
from monitor.alerting.rules import Metric, Rule


def explain(rule: Rule, evaluation: Evaluation) -> str:
    """E.g. "23 of 25 items negative in the last 5 min; 5.2 expected from the last 8 h (rate
    0.21); z 8.1"."""
    e = evaluation
    window = f"in the last {_span(rule.window_minutes)}"
    baseline = f"expected from the last {_span(rule.baseline_minutes)}"
    evidence = f"z {e.deviation:.1f}"
    if rule.metric is Metric.negative_share:
        return (
            f"{e.observed:.0f} of {e.volume} items negative {window}; "
            f"{e.expected:.1f} {baseline} (rate {e.rate:.2f}); {evidence}"
        )
    if rule.metric is Metric.negative_count:
        return (
            f"{e.observed:.0f} negative items {window} ({e.volume} in all); "
            f"{e.expected:.1f} {baseline}; {evidence}"
        )
    return (
        f"mean score {e.observed:+.2f} over {e.volume} items {window}; "
        f"{e.expected:+.2f} {baseline}; {evidence}"
    )


def _span(minutes: int) -> str:
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"
