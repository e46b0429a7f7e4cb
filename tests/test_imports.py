"""The import graph of src/chainrule has no cycle, and tensor.py imports nothing above it.

Every ``import`` and ``from ... import`` in every module is read from its source (module-level and
deferred ones alike: a cycle through a deferred import is a cycle all the same).
"""

import ast
from pathlib import Path

import chainrule

ROOT = Path(chainrule.__file__).parent


def _module_name(path):
    parts = ["chainrule", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _imports(name, path):
    """The chainrule modules that module ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "chainrule")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "chainrule":
                continue
            for alias in node.names:  # `from pkg import module` imports the module itself
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    found.discard(name)
    return {m for m in found if m in MODULES}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle():
    """One import cycle as a list of modules, or None."""
    state = {}  # module -> "open" while on the path, "done" after

    def visit(m, path):
        state[m] = "open"
        for n in sorted(GRAPH[m]):
            if state.get(n) == "open":
                return path[path.index(n) :] + [n]
            if n not in state:
                found = visit(n, [*path, n])
                if found:
                    return found
        state[m] = "done"
        return None

    for m in sorted(GRAPH):
        if m not in state:
            found = visit(m, [m])
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_walk_sees_the_imports():  # the test above must be able to fail
    assert "chainrule.autograd.function" in GRAPH["chainrule.tensor"]
    assert "chainrule.ops.elementwise" in GRAPH["chainrule.functional.core"]
    assert "chainrule.tensor" in GRAPH["chainrule.functional.core"]


def test_the_core_imports_nothing_above_it():
    # device, random and return_types are leaves beside the backend: they import only errors (and NumPy)
    below = {"chainrule.tensor", "chainrule.backend", "chainrule.errors", "chainrule.device", "chainrule.random",
             "chainrule.return_types"}
    below |= {m for m in MODULES if m.startswith(("chainrule.ops", "chainrule.autograd"))}
    for m in sorted(below):
        above = sorted(n for n in GRAPH[m] if n not in below)
        assert not above, f"{m} imports {above}, which lie above the core"
