"""Cadence's parts import downward only, and never in a circle (docs/architecture.md): the
pure domain at the bottom, the store and the adapters above it, then the services, the
queries, the operations, the engine, and the front ends on top. A new import that runs
upward — the window reaching into the engine's innards, the store asking an operation —
fails here, naming the file."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("domain",),
    ("changes", "paths", "user_files", "export", "triggers", "setting_checks", "logs"),
    ("store", "secrets", "autostart"),
    ("settings", "pipeline", "google", "sources", "delivery", "cluster", "publish"),
    ("render_config", "services"),
    ("queries",),
    ("ops",),
    ("engine",),
    ("api", "cli", "ui", "entry"),
)
LEVEL = {part: n for n, parts in enumerate(LAYERS) for part in parts}


def _part(module: str) -> str | None:
    bits = module.split(".")
    return bits[1] if bits[0] == "app" and len(bits) > 1 else None


def _arrows() -> dict[tuple[str, str], list[str]]:
    """(from part, to part) → the files with such an import (lazy ones count; imports for
    type checking only do not)."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in APP.rglob("*.py"):
        source = _part("app." + ".".join(path.relative_to(APP).with_suffix("").parts))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "app":  # from app import ops, queries
                    names = [f"app.{alias.name}" for alias in node.names]
            for name in names:
                target = _part(name)
                if source and target and target != source and target in LEVEL:
                    found[(source, target)].append(str(path.relative_to(APP.parent)))
    return found


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in APP.iterdir() if p.name != "__init__.py"}
    parts = {p for p in parts if not p.startswith("__")}
    assert parts - set(LEVEL) == set(), "add the new part to LAYERS (and docs/architecture.md)"


def test_no_part_imports_one_above_it() -> None:
    upward = [
        f"{files[0]} imports app.{target} ({source} sits below {target})"
        for (source, target), files in sorted(_arrows().items())
        if LEVEL[target] > LEVEL[source]
    ]
    assert upward == []


def test_no_import_cycle_between_parts() -> None:
    graph: dict[str, set[str]] = {}
    for source, target in _arrows():
        graph.setdefault(source, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, set()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reaches(nxt, goal, seen):
                    return True
        return False

    circles = [
        f"{a} → {b} → … → {a}" for a, bs in graph.items() for b in bs if reaches(b, a, set())
    ]
    assert circles == []
