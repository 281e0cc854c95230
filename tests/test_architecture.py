"""The shape of the code (docs/architecture.md): every import points down, and no circle spans
two layers.

Walks every module of ``bot/``, ``handlers/``, ``storage/`` and ``config/`` with ``ast`` and
collects every import of our own modules — at module level, inside functions, and under
``TYPE_CHECKING`` (an import for types is still a dependency of the code that reads it). Each
module belongs to one layer; an import may only go to the layers its layer is allowed:

    app, cli  → everything
    web       → services, reports (+ core, domain, config)
    handlers  → services (+ core, domain, config)
    scheduler → services (+ core, domain, config)
    reports   → services (+ core, domain, config)
    pipeline  → core, services (+ domain, config)
    adapters  → core, config (+ domain)
    services  → domain, storage, core (types), config
    core      → domain, config
    domain    → nothing of ours (and none of aiohttp, SQLAlchemy, wechatpy, jieba)
    storage   → config
    config    → nothing of ours

The parenthesised layers are those the named ones already reach: an import may skip a layer
downwards, except into ``storage``, which only the services (and the composition root) touch —
the services are the only SQL outside storage.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "config")
EVERYTHING = frozenset({"app", "web", "handlers", "scheduler", "reports", "pipeline",
                        "adapters", "services", "core", "domain", "storage", "config", "meta"})
ALLOWED: dict[str, frozenset[str]] = {
    "app": EVERYTHING,
    "web": frozenset({"services", "reports", "core", "domain", "config"}),
    "handlers": frozenset({"services", "core", "domain", "config"}),
    "scheduler": frozenset({"services", "core", "domain", "config"}),
    "reports": frozenset({"services", "core", "domain", "config"}),
    "pipeline": frozenset({"core", "services", "domain", "config"}),
    "adapters": frozenset({"core", "config", "domain"}),
    "services": frozenset({"domain", "storage", "core", "config"}),
    "core": frozenset({"domain", "config"}),
    "domain": frozenset(),
    "storage": frozenset({"config"}),
    "config": frozenset(),
}
# bot/__init__.py names the version and imports nothing: anyone may read it.
OPEN_TO_ALL = "meta"
DOMAIN_MUST_NOT_USE = ("aiohttp", "sqlalchemy", "wechatpy", "jieba")
_BOT_LAYERS = {"app": "app", "cli": "app", "__main__": "app",
               "web": "web", "scheduler": "scheduler", "reports": "reports",
               "pipeline": "pipeline", "adapters": "adapters", "services": "services",
               "core": "core", "domain": "domain"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "bot":
        return parts[0]
    if len(parts) == 1:
        return OPEN_TO_ALL
    layer = _BOT_LAYERS.get(parts[1])
    if layer is None:
        raise AssertionError(f"{module} is in no layer: place it in a package of "
                             "docs/architecture.md (or name its layer in this test)")
    return layer


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts:
                continue  # Alembic revisions: generated, run by storage.migrate
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imports_of(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every (imported module, line) in ``path``, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:  # `from bot.services import people` imports a module
                yield f"{target}.{alias.name}", node.lineno


def graph() -> dict[str, dict[str, int]]:
    """module -> {our module it imports: line}."""
    ours = {name for name, _ in modules()}
    edges: dict[str, dict[str, int]] = defaultdict(dict)
    for name, path in modules():
        for target, line in imports_of(name, path):
            if target in ours and target != name:
                edges[name].setdefault(target, line)
    return edges


def test_every_module_is_in_a_layer() -> None:
    for name, _ in modules():
        assert layer_of(name) in EVERYTHING, name


def test_no_import_points_up() -> None:
    wrong = []
    for source, targets in graph().items():
        allowed = ALLOWED.get(layer_of(source), frozenset())
        for target, line in targets.items():
            src, dst = layer_of(source), layer_of(target)
            if src != dst and dst != OPEN_TO_ALL and dst not in allowed:
                wrong.append(f"{source}:{line} ({src}) imports {target} ({dst})")
    assert wrong == [], "imports against the layering:\n" + "\n".join(sorted(wrong))


def test_no_circle_spans_two_layers() -> None:
    edges = graph()
    circles = [c for c in _strongly_connected(edges) if len({layer_of(m) for m in c}) > 1]
    assert circles == [], "\n".join(" ↔ ".join(sorted(c)) for c in circles)


def test_the_domain_is_pure() -> None:
    used = []
    for name, path in modules():
        if layer_of(name) != "domain":
            continue
        for target, line in imports_of(name, path):
            if target.split(".")[0] in DOMAIN_MUST_NOT_USE:
                used.append(f"{name}:{line} imports {target}")
    assert used == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The walk sees imports inside functions, under TYPE_CHECKING and relative ones."""
    sample = tmp_path / "mod.py"
    sample.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from bot.app import Services\n"
                      "def f():\n    from storage.db import Database\n"
                      "from . import sibling\n", encoding="utf-8")
    found = {t for t, _ in imports_of("bot.core.mod", sample)}
    assert {"bot.app", "bot.app.Services", "storage.db", "bot.core.sibling"} <= found
    assert layer_of("bot.core.mod") == "core" and "app" not in ALLOWED["core"]
    assert "storage" not in ALLOWED["web"] and "services" not in ALLOWED["adapters"]


def _strongly_connected(edges: dict[str, dict[str, int]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph has hundreds of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[set[str]] = []
    counter = 0
    nodes = set(edges) | {t for ts in edges.values() for t in ts}
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, {}))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(component)
    return out
