"""The package's shape: imports run one way, layer by layer, with no circles; no module reaches
into another's private names; ruff finds nothing.

Layers, lowest first (a module may import its own layer and those below, never above):
errors (the user-error base) and core (the model) < running (replications, executors, outputs) <
sweep, calibration, analysis < views (figures and reports) < workflows (what the CLI and
notebooks call) < cli.
Checked from the source (every import, including those inside functions and the lazy export
tables), so a lazy import cannot hide a circle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sim"
LAYERS = {"errors": 0, "core": 0, "lazy": 0, "running": 1, "sweep": 2, "calibration": 2,
          "analysis": 2, "views": 3, "workflows": 4, "explorer": 4, "cli": 5, "bench": 5,
          "__main__": 5}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported(name: str, path: Path) -> list[tuple[str, str]]:
    """(module, imported name or "") for every import of a package module in ``path``: import
    statements anywhere in the file, and the lazy export tables (``_PUBLIC``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.startswith("sim")]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("sim")
        ):
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Assign) and any(
            getattr(t, "id", "") == "_PUBLIC" for t in node.targets
        ):
            found += [(value.value, "") for value in node.value.values]
    return found


def edges() -> dict[str, set[str]]:
    """module -> the package modules it imports (``from package import submodule`` counts as
    importing the submodule)."""
    graph = {}
    for name, path in MODULES.items():
        targets = set()
        for module, attribute in imported(name, path):
            submodule = f"{module}.{attribute}"
            targets.add(submodule if submodule in MODULES else module)
        graph[name] = {target for target in targets if target in MODULES and target != name}
    return graph


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    # sim/__init__ only re-exports lazily; every module below it is "sim.<something>"
    graph = {name: targets - {"sim"} for name, targets in edges().items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_circle_through_three_modules():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_import_only_downward():
    upward = [
        f"{source} (layer {layer(source)}) imports {target} (layer {layer(target)})"
        for source, targets in edges().items()
        for target in targets
        if layer(source) is not None and layer(target) is not None and layer(target) > layer(source)
    ]
    assert upward == []


def test_every_module_has_a_layer():
    assert [name for name in MODULES if name != "sim" and layer(name) is None] == []


def test_no_private_name_is_imported_from_another_module():
    private = [f"{name} imports {attribute} from {module}"
               for name, path in MODULES.items() for module, attribute in imported(name, path)
               if attribute.startswith("_") and module != name]
    assert private == []


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


def test_every_error_a_user_can_fix_has_the_one_base():
    """Exceptions defined in the package derive from sim.errors.UserError (the command line's
    exit code 2), but for two signals caught where they are raised and never shown as errors: a
    damaged sweep run file (run again) and an explorer run a newer change superseded."""
    direct = sorted(f"{name}.{node.name}" for name, path in MODULES.items()
                    for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.ClassDef)
                    and {getattr(base, "id", "") for base in node.bases} & {"Exception",
                                                                             "BaseException"})
    assert direct == ["sim.errors.UserError", "sim.explorer.whatif.ensemble.Cancelled",
                      "sim.sweep.store.DamagedRun"]
