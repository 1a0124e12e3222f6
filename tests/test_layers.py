"""The import table of DESIGN.md, checked on the source: each runtime package imports only the
layers it may, so no layer reaches back up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("model", "stream", "monitor", "dashboard", "migrations", "finsent")
# monitor/storage's read API: the only part of monitor the dashboard may read through.
READ_API = (
    "monitor.storage.queries",
    "monitor.storage.headline_queries",
    "monitor.storage.alert_queries",
    "monitor.storage.records",
    "monitor.storage.reading",
)
ALLOWED: dict[str, tuple[str, ...]] = {
    "model": ("model",),
    "stream": ("stream", "model", "monitor"),
    "monitor": ("monitor",),
    "dashboard": ("dashboard", "model.labels", *READ_API),
    "migrations": ("migrations", "monitor"),
    "finsent": OURS,
}
# Inside monitor: storage imports neither of the others, delivery does not import alerting.
MONITOR_ALLOWED = {
    "monitor.storage": ("monitor.storage", "monitor.exceptions"),
    "monitor.delivery": ("monitor.delivery", "monitor.storage", "monitor.exceptions"),
    "monitor.alerting": ("monitor",),
}
# The runtime path (worker, scorer, dashboard) never needs the train extra.
TRAIN_ONLY = ("torch", "transformers", "onnx", "onnxscript")
TRAIN_MODULES = (
    "model.training",
    "model.training_config",
    "model.training_data",
    "model.multitask",
    "model.frozen_layers",
    "model.validation",
    "model.distillation",
    "model.optimization",
    "model.export",
)


def _modules(package: str) -> list[tuple[str, Path]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth, typing-only ones too."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _ours(name: str) -> bool:
    return _within(name, OURS)


@pytest.mark.parametrize("package", list(ALLOWED))
def test_each_package_imports_only_the_layers_the_table_allows(package: str) -> None:
    wrong = []
    for module, path in _modules(package):
        for name in _imports(path):
            if not _ours(name) or _within(name, ALLOWED[package]):
                continue
            # `from monitor.storage import queries` names the module in its alias.
            if package == "dashboard" and name in ("monitor.storage", "model"):
                continue
            wrong.append(f"{module} imports {name}")
    assert wrong == []


def test_inside_monitor_storage_is_the_bottom_and_delivery_never_asks_alerting() -> None:
    wrong = []
    for module, path in _modules("monitor"):
        concern = next((c for c in MONITOR_ALLOWED if _within(module, (c,))), None)
        if concern is None:
            continue
        for name in _imports(path):
            if _within(name, ("monitor",)) and not _within(name, MONITOR_ALLOWED[concern]):
                wrong.append(f"{module} imports {name}")
    assert wrong == []


def test_the_runtime_path_never_imports_the_train_extra() -> None:
    wrong = []
    for package in ("model", "stream", "monitor", "dashboard"):
        for module, path in _modules(package):
            if module in TRAIN_MODULES:
                continue
            wrong += [f"{module} imports {n}" for n in _imports(path) if _within(n, TRAIN_ONLY)]
    assert wrong == []
