import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "data"))

from clir_bench.cli import app  # noqa: E402

RUNS = Path(__file__).parent / "data" / "runs"


def invoke(*args: str):
    """Run the CLI in-process; return (exit code, stdout + stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def cli():
    return invoke


@pytest.fixture
def runs():
    return RUNS
