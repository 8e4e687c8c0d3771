"""The layout shows the architecture, and these tests keep it so: a pure core, one wing per store,
the pipelines on top, no import circle, and small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "functions" / "engine"
IO_LIBRARIES = {"redis", "pg8000", "flask", "functions_framework", "werkzeug", "gunicorn"}
MAX_MODULE_LINES = 300


def module_name(path: Path) -> str:
    base = ROOT / "functions" if path.is_relative_to(ROOT / "functions") else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py") if ".venv" not in p.parts and "node_modules" not in p.parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (a lazy import inside a function counts too)."""
    found = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def project_modules() -> dict[str, Path]:
    files = sources(ROOT / "functions" / "engine", ROOT / "local", ROOT / "scheduler", ROOT / "runtime")
    return {module_name(p): p for p in files}


def internal_imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports (a package import counts as its __init__)."""
    graph = {}
    for name, path in modules.items():
        graph[name] = {target for target in imports_of(path) if target in modules and target != name}
    return graph


CORE = sorted(p for p in sources(ENGINE / "core"))
WINGS = {"buffer": ("redis",), "db": ("pg8000",)}


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_module_imports_no_io_library_and_nothing_above_core(path):
    imported = imports_of(path)
    io = {name for name in imported if name.split(".")[0] in IO_LIBRARIES}
    above = {
        name for name in imported if name.startswith(("engine", "local", "scheduler", "runtime")) and not name.startswith("engine.core")
    }
    assert io == set(), f"{path.name} imports I/O libraries"
    assert above == set(), f"{path.name} imports modules above the core"


@pytest.mark.parametrize("wing", sorted(WINGS))
def test_store_wing_imports_only_its_own_driver_the_core_and_itself(wing):
    allowed_io = set(WINGS[wing])
    for path in sources(ENGINE / wing):
        imported = imports_of(path)
        io = {name.split(".")[0] for name in imported if name.split(".")[0] in IO_LIBRARIES}
        above = {
            n
            for n in imported
            if n.startswith(("engine", "local", "scheduler", "runtime")) and not n.startswith(("engine.core", f"engine.{wing}"))
        }
        assert io <= allowed_io, f"{path.name} imports {io - allowed_io}"
        assert above == set(), f"{wing}/{path.name} imports modules above its wing"


def test_the_http_edge_imports_no_store_driver():
    for name in ("web.py", "health.py", "opsmetrics.py", "openapi.py"):
        drivers = {n for n in imports_of(ENGINE / name) if n.split(".")[0] in ("redis", "pg8000")}
        assert drivers == set(), f"{name} imports {drivers}"


def test_no_function_module_imports_the_local_tools_or_the_bench():
    for path in sources(ROOT / "functions"):
        local = {n for n in imports_of(path) if n.split(".")[0] == "local"}
        assert local == set(), f"{path.relative_to(ROOT)} imports {local}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of the graph, as the modules along it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_in_functions_local_scheduler_or_runtime():
    graph = internal_imports(project_modules())
    assert len(graph) > 60  # the whole tree was read
    assert find_cycle(graph) is None


@pytest.mark.parametrize(
    "path", sources(ROOT / "functions", ROOT / "local", ROOT / "scheduler", ROOT / "runtime"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_module_is_under_300_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES
