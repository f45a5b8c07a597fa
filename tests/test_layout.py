"""The package's layout: one subpackage per role, imports that run one way (layers, and no cycle
between any two modules), no shadowed names."""

import ast
import sys
from pathlib import Path

import clir_bench

PACKAGE = Path(clir_bench.__file__).parent
# A layer may import itself and the layers listed for it (`clir_bench` itself: only __version__).
ALLOWED = {
    "core": set(),
    "evaluation": {"core"},
    "sources": {"core", "evaluation"},
    "tracks": {"core", "evaluation", "sources"},
    "leaderboard": {"core", "evaluation", "sources", "tracks"},
    "models": {"core", "evaluation", "sources", "tracks"},
    # the harness's top-level modules (pipeline, diagnostics, systems, api...) use every role
    "top": {"core", "evaluation", "sources", "tracks", "leaderboard", "models"},
    "cli": {"core", "evaluation", "sources", "tracks", "leaderboard", "models", "top"},  # the outermost layer
}


def _layer(module: str) -> str:
    parts = module.split(".")
    if module == "clir_bench.__main__":  # `python -m clir_bench` is the command line
        return "cli"
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else "top"


def _modules() -> dict[str, Path]:
    return {"clir_bench." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every clir_bench module a file imports, at module level or inside functions (`from
    clir_bench.x import y` counts as clir_bench.x.y where y is a module)."""
    modules = _modules()
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("clir_bench.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("clir_bench"):
            names = {f"{node.module}.{a.name}" for a in node.names if a.name != "__version__"}
            found |= {n for n in names if n in modules} or ({node.module} if node.module != "clir_bench" else set())
    return found


def test_layers_import_one_way():
    wrong = []
    for module, path in _modules().items():
        layer = _layer(module)
        for imported in _imports(path):
            target = _layer(imported)
            if target != layer and target not in ALLOWED[layer]:
                wrong.append(f"{module} ({layer}) imports {imported} ({target})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    """No two modules import each other, directly or through others (a package's __init__ that
    gathers its own modules is not a cycle with them)."""
    graph = {m: {i for i in _imports(p) if not m.startswith(i + ".")} for m, p in _modules().items()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_every_module_belongs_to_a_role_and_shadows_no_standard_module():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == {"__init__", "__main__", "api", "noise_diagnosis", "pipeline", "systems", "workers"}
    names = {p.stem for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert not names & set(sys.stdlib_module_names), names & set(sys.stdlib_module_names)
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()} == {
        *ALLOWED} - {"top"}


def test_reference_systems_use_only_the_public_api_and_the_models():
    """clir_baselines are plugins like a participant's: they import the plugin interface, the
    errors, progress display, document streaming and the models, never the harness's internals."""
    public = ("clir_bench.systems", "clir_bench.api", "clir_bench.core.errors", "clir_bench.core.progress",
              "clir_bench.sources.documents", "clir_bench.models.")
    baselines = PACKAGE.parent / "clir_baselines"
    wrong = [f"{path.name}: {m}" for path in sorted(baselines.glob("*.py")) for m in _imports(path)
             if not m.startswith(public)]
    assert not wrong, wrong
