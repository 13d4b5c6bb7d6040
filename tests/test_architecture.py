"""The layout's rules, checked on the source (docs/architecture.md).

- Arrows point one way: nothing under ``apps/`` imports the project package ``backoffice``.
- No import cycle between modules, counting imports made inside functions too.
- Shared apps (core, toolkits, spreadsheets, observability, security) import no feature app.
- Feature apps stand in layers (``FEATURE_LAYERS``, bottom first): an app imports only shared
  apps and the feature apps below it; a lower app offers an extension point instead.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = {"core", "observability", "security", "admin_toolkit", "api_toolkit", "spreadsheets"}
#: The feature apps from the bottom up (docs/architecture.md, "Layers").
FEATURE_LAYERS = ("accounts", "customers", "items", "notifications", "orders")


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("apps", "backoffice"):
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            # The longest known module the import names (``from x import y`` may name a module).
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_no_app_imports_the_project_package():
    offenders = sorted(
        f"{name} -> {target}"
        for name, targets in _graph().items()
        if name.startswith("apps.")
        for target in targets
        if target.startswith("backoffice")
    )
    assert offenders == []


def test_shared_apps_import_no_feature_app():
    offenders = sorted(
        f"{name} -> {target}"
        for name, targets in _graph().items()
        if name.startswith("apps.") and name.split(".")[1] in SHARED
        for target in targets
        if target.startswith("apps.") and target.split(".")[1] not in SHARED
    )
    assert offenders == []


def test_no_import_cycle_between_modules():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == [], "\n".join(" <-> ".join(c) for c in cycles)


def test_every_app_is_shared_or_in_a_layer():
    apps = {p.name for p in (ROOT / "apps").iterdir() if (p / "apps.py").exists()}
    assert apps == SHARED | set(FEATURE_LAYERS)


def test_feature_apps_import_only_the_layers_below_them():
    rank = {app: i for i, app in enumerate(FEATURE_LAYERS)}
    offenders = sorted(
        f"{name} -> {target}"
        for name, targets in _graph().items()
        if name.startswith("apps.") and name.split(".")[1] in rank
        for target in targets
        if target.startswith("apps.")
        and target.split(".")[1] in rank
        and rank[target.split(".")[1]] > rank[name.split(".")[1]]
    )
    assert offenders == []
