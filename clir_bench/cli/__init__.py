"""The `clir-bench` command line: a thin Typer layer over keyword-only functions, one module per
group of commands (admin: tracks, data, cache, leaderboard; evaluate: validate, score, compare,
submit; reference: run, diagnose, train, protocols, encode), options declared once (`common`),
tables apart (`tables`).

Imports here stay light (no torch, no transformers, no ir_datasets) so that `score` and
`validate` start fast; each command imports what it needs.
"""

from clir_bench.cli import admin, evaluate, reference  # noqa: F401  (each registers its commands)
from clir_bench.cli.app import app
from clir_bench.cli.tables import training_summary

__all__ = ["app", "main", "training_summary"]


def main() -> None:
    app()
