"""Rules files: the shipped defaults load; a bad file names its line and its problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerting.rules import Metric, load_rules, parse_rules
from monitor.exceptions import RulesInvalid

GOOD_TOML = """
[[rules]]
name = "earnings"
scope = "topic"
keys = ["Earnings"]
metric = "negative_share"
"""

GOOD_YAML = """
rules:
  - name: aapl
    scope: ticker
    keys: [AAPL]
    metric: mean_score
    window_minutes: 10
"""


def test_shipped_defaults_load() -> None:
    rules = load_rules()
    assert {r.scope for r in rules} == {"all", "topic", "ticker"}
    assert all(r.resolve_threshold < r.threshold for r in rules)


def test_toml_and_yaml_files(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(GOOD_TOML)
    (tmp_path / "r.yaml").write_text(GOOD_YAML)
    (toml_rule,) = load_rules(tmp_path / "r.toml")
    (yaml_rule,) = load_rules(tmp_path / "r.yaml")
    assert toml_rule.keys == ("Earnings",) and toml_rule.window_minutes == 3
    assert yaml_rule.metric is Metric.mean_score and yaml_rule.window_minutes == 10


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (
            GOOD_TOML + "false_alarms_per_100_days = -1\n",
            "toml",
            "x:7: rule 'earnings': false_alarms_per_100_days: Input should be",
        ),
        (
            GOOD_TOML + "threshold = 5\n",
            "toml",
            "x:7: rule 'earnings': threshold: no longer a rule setting; set false_alarms",
        ),
        (GOOD_TOML + "step_minutes = 9\n", "toml", "x:2: rule 'earnings': step_minutes (9)"),
        (GOOD_TOML.replace("topic", "sector"), "toml", "x:4: rule 'earnings': scope:"),
        (GOOD_TOML + "colour = 'red'\n", "toml", "x:7: rule 'earnings': colour: Extra inputs"),
        (GOOD_TOML + "resolve_threshold = 9\n", "toml", "x:2: rule 'earnings': resolve_threshold"),
        (GOOD_TOML + GOOD_TOML, "toml", "x:9: rule 'earnings': name: duplicate rule name"),
        ("[[rules]\nname=1", "toml", "x:1: not valid TOML"),
        ("rules = []", "toml", "x:1: expected a non-empty list"),
        (GOOD_YAML + "    min_volume: zero\n", "yaml", "x:8: rule 'aapl': min_volume: Input"),
        ("rules:\n  - name: a\n  - [1\n", "yaml", "x:4: not valid YAML"),
        ("rules:\n  - name: a\n", "yaml", "x:2: rule 'a': scope: Field required"),
    ],
)
def test_bad_files_name_the_line_and_the_problem(text: str, fmt: str, expected: str) -> None:
    with pytest.raises(RulesInvalid) as caught:
        parse_rules(text, fmt=fmt, source="x")  # type: ignore[arg-type]
    assert str(caught.value).startswith(expected), str(caught.value)


def test_a_smaller_false_alarm_budget_asks_for_more_evidence() -> None:
    (rule,) = parse_rules(GOOD_TOML, fmt="toml", source="x")
    strict = rule.model_copy(update={"false_alarms_per_100_days": 0.1})
    every_5_min = rule.model_copy(update={"step_minutes": 5})
    assert 4.0 < rule.threshold < strict.threshold
    # Fewer evaluations a day: each may be a little less sure for the same budget.
    assert every_5_min.threshold < rule.threshold


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(RulesInvalid, match="FINSENT_RULES: cannot read"):
        load_rules(tmp_path / "nope.toml")
