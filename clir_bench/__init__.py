"""clir-bench: cross-lingual retrieval on low-resource languages under noisy training bitext.

The Python API, imported lazily (so `import clir_bench` stays fast): `load_track`,
`load_judgments`, `score`, `compare`, their results `ScoreReport` and `Comparison`, and
`ClirBenchError`. See `clir_bench.api`.
"""

__version__ = "0.1.0"
__all__ = ["ClirBenchError", "Comparison", "ScoreReport", "__version__", "compare", "load_judgments", "load_track",
           "score"]

_LAZY = {"load_track": "clir_bench.api", "load_judgments": "clir_bench.api", "score": "clir_bench.api",
         "compare": "clir_bench.api", "ScoreReport": "clir_bench.evaluation.report",
         "Comparison": "clir_bench.evaluation.compare", "ClirBenchError": "clir_bench.core.errors"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'clir_bench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
