"""The package's layout: one subpackage per role, imports that run one way, no shadowed names."""

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
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else "top"


def _imports(path: Path) -> set[str]:
    """Every clir_bench module a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("clir_bench.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("clir_bench"):
            if node.module == "clir_bench":
                found |= {f"clir_bench.{a.name}" for a in node.names if a.name != "__version__"}
            else:
                found.add(node.module)
    return found


def test_layers_import_one_way():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "clir_bench." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        layer = _layer(module)
        if layer == "top":
            continue
        for imported in _imports(path):
            target = _layer(imported)
            if target != layer and target not in ALLOWED[layer]:
                wrong.append(f"{module} ({layer}) imports {imported} ({target})")
    assert not wrong, "\n".join(wrong)


def test_every_module_belongs_to_a_role_and_shadows_no_standard_module():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == {"__init__", "__main__", "api", "cache", "cli", "diagnostics", "pipeline", "systems", "workers"}
    names = {p.stem for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert not names & set(sys.stdlib_module_names), names & set(sys.stdlib_module_names)
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()} == {
        *ALLOWED}


def test_reference_systems_use_only_the_public_api_and_the_models():
    """clir_baselines are plugins like a participant's: they import the plugin interface, the
    errors, progress display, document streaming and the models, never the harness's internals."""
    public = ("clir_bench.systems", "clir_bench.api", "clir_bench.core.errors", "clir_bench.core.progress",
              "clir_bench.sources.documents", "clir_bench.models.")
    baselines = PACKAGE.parent / "clir_baselines"
    wrong = [f"{path.name}: {m}" for path in sorted(baselines.glob("*.py")) for m in _imports(path)
             if not m.startswith(public)]
    assert not wrong, wrong
