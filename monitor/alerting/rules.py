"""Alert rules: what to watch, how to judge a window, when an episode is over.

Rules live in a TOML or YAML file (`FINSENT_RULES`); without one the defaults shipped in
`monitor/alerting/default_rules.toml` apply. Every problem is reported at load time with the file,
the line and the rule, so a bad file stops the process before it evaluates anything.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import special

from monitor.exceptions import RulesInvalid

DEFAULT_RULES = "default_rules.toml"


MINUTES_PER_DAY = 24 * 60
TAIL_ALLOWANCE = 3.0  # measured false alarms / budget on the busiest benchmark series
# Keys earlier versions had: say what replaces them rather than "extra inputs are not permitted".
REMOVED = {
    "threshold": "set false_alarms_per_100_days instead; the threshold follows from it",
    "baseline": "the baseline is the pooled rate of the baseline windows; remove the key",
}


class Metric(StrEnum):
    """What a rule watches in a window; each rises (or, for the mean score, falls) on bad news."""

    negative_share = "negative_share"
    negative_count = "negative_count"
    mean_score = "mean_score"


class Rule(BaseModel):
    """One alert rule; checked field by field when the rules file is loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    scope: Literal["all", "topic", "ticker"]
    keys: tuple[str, ...] = Field(default=(), description="empty: every key of the scope")
    window_minutes: int = Field(default=3, ge=1, le=1440)
    step_minutes: int = Field(default=1, ge=1, le=1440)
    metric: Metric = Metric.negative_share
    baseline_windows: int = Field(default=160, ge=3, le=2000)
    min_baseline_windows: int = Field(default=12, ge=2)
    false_alarms_per_100_days: float = Field(default=1.0, gt=0, le=10_000)
    min_delta: float = Field(default=0.0, ge=0)
    min_volume: int = Field(default=1, ge=1)
    cooldown_minutes: int = Field(default=30, ge=0)
    resolve_threshold: float = Field(default=1.5, ge=0)
    resolve_windows: int = Field(default=2, ge=1)
    headlines: int = Field(default=5, ge=1, le=50)

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if self.min_baseline_windows > self.baseline_windows:
            raise ValueError(
                f"min_baseline_windows ({self.min_baseline_windows}) must not exceed "
                f"baseline_windows ({self.baseline_windows})"
            )
        if self.step_minutes > self.window_minutes:
            raise ValueError(
                f"step_minutes ({self.step_minutes}) must not exceed window_minutes "
                f"({self.window_minutes}), or some minutes would never be judged"
            )
        if self.resolve_threshold >= self.threshold:
            raise ValueError(
                f"resolve_threshold ({self.resolve_threshold}) must be below the firing "
                f"threshold ({self.threshold:.2f}) so an episode needs a real recovery to end"
            )
        if self.scope == "all" and self.keys:
            raise ValueError("keys: scope 'all' has a single series; leave keys out")
        return self

    @property
    def dimension(self) -> str:
        return self.scope

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.step_minutes)

    @property
    def cooldown(self) -> timedelta:
        return timedelta(minutes=self.cooldown_minutes)

    @property
    def baseline_minutes(self) -> int:
        return self.baseline_windows * self.window_minutes

    @property
    def threshold(self) -> float:
        """The z score a window must reach to fire.

        A quiet series is judged 1440 / step_minutes times a day; if each judgement fired with
        probability alpha, it would raise alpha x that many alarms a day. Real series have
        heavier tails than the model (the tone drifts over the hour), and on
        `bench/bench_detection.py` the busiest series fired TAIL_ALLOWANCE times what that
        count predicts, so alpha is divided by it to keep the budget."""
        evaluations_per_day = MINUTES_PER_DAY / self.step_minutes
        alpha = self.false_alarms_per_100_days / 100.0 / evaluations_per_day / TAIL_ALLOWANCE
        return float(-special.ndtri(alpha))


@dataclass(frozen=True, slots=True)
class _Problem:
    index: int | None
    field: str | None
    message: str


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    """The rules in `path` (`.toml`, `.yaml` or `.yml`), or the shipped defaults when None."""
    if path is None:
        text = (
            resources.files("monitor.alerting").joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
        )
        return parse_rules(text, fmt="toml", source=f"<shipped {DEFAULT_RULES}>")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RulesInvalid(f"FINSENT_RULES: cannot read {path}: {e.strerror or e}") from e
    fmt: Literal["toml", "yaml"] = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "toml"
    return parse_rules(text, fmt=fmt, source=str(path))


def parse_rules(text: str, *, fmt: Literal["toml", "yaml"], source: str) -> tuple[Rule, ...]:
    """Parse and validate; raise `RulesInvalid` as `source:line: rule NAME: field: problem`."""
    document = _parse(text, fmt=fmt, source=source)
    entries = document.get("rules") if isinstance(document, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise RulesInvalid(f"{source}:1: expected a non-empty list `rules` of rule tables")
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, Mapping):
                raise _single(index, None, "each rule must be a table of settings")
            for key in REMOVED.keys() & entry.keys():
                raise _single(index, key, f"no longer a rule setting; {REMOVED[key]}")
            rules.append(Rule.model_validate(entry))
        except ValidationError as e:
            raise _located(text, fmt, source, entries, _first(index, e)) from e
        except _ProblemError as e:
            raise _located(text, fmt, source, entries, e.problem) from e
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.name in seen:
            problem = _Problem(index, "name", f"duplicate rule name {rule.name!r}")
            raise _located(text, fmt, source, entries, problem)
        seen.add(rule.name)
    return tuple(rules)


class _ProblemError(Exception):
    def __init__(self, problem: _Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _single(index: int, field: str | None, message: str) -> _ProblemError:
    return _ProblemError(_Problem(index, field, message))


def _first(index: int, error: ValidationError) -> _Problem:
    problem = error.errors()[0]
    loc = problem["loc"]
    field = str(loc[0]) if loc else None
    message = str(problem["msg"]).removeprefix("Value error, ")
    return _Problem(index, field, message)


def _parse(text: str, *, fmt: str, source: str) -> Any:
    if fmt == "toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            found = re.search(r"line (\d+)", str(e))
            line = found.group(1) if found else "1"
            raise RulesInvalid(f"{source}:{line}: not valid TOML: {e}") from e
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else 1
        raise RulesInvalid(f"{source}:{line}: not valid YAML: {e.problem}") from e
    except yaml.YAMLError as e:
        raise RulesInvalid(f"{source}:1: not valid YAML: {e}") from e


def _located(
    text: str, fmt: str, source: str, entries: Sequence[Any], problem: _Problem
) -> RulesInvalid:
    line = _line_of(text, fmt, problem.index, problem.field)
    name = None
    if problem.index is not None and isinstance(entries[problem.index], Mapping):
        name = entries[problem.index].get("name")
    who = f"rule {name!r}" if isinstance(name, str) else f"rule #{(problem.index or 0) + 1}"
    what = f"{problem.field}: " if problem.field else ""
    return RulesInvalid(f"{source}:{line}: {who}: {what}{problem.message}")


def _line_of(text: str, fmt: str, index: int | None, field: str | None) -> int:
    """1-based line of `field` in rule number `index` (or of the rule itself), best effort."""
    if index is None:
        return 1
    if fmt == "yaml":
        return _yaml_line(text, index, field)
    return _toml_line(text, index, field)


def _toml_line(text: str, index: int, field: str | None) -> int:
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if re.match(r"\s*\[\[\s*rules\s*\]\]", line)]
    if index >= len(headers):
        return 1
    start = headers[index]
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"\s*\[", lines[i])), len(lines)
    )
    if field is not None:
        pattern = re.compile(rf"\s*\"?{re.escape(field)}\"?\s*=")
        for i in range(start + 1, end):
            if pattern.match(lines[i]):
                return i + 1
    return start + 1


def _yaml_line(text: str, index: int, field: str | None) -> int:
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return 1
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            if index >= len(value.value):
                return int(key.start_mark.line) + 1
            item = value.value[index]
            if field is not None and isinstance(item, yaml.MappingNode):
                for k, _ in item.value:
                    if k.value == field:
                        return int(k.start_mark.line) + 1
            return int(item.start_mark.line) + 1
    return 1
