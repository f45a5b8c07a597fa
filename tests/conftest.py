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


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A tiny random BERT encoder made in the test session (tests that use it skip without torch)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def runs():
    return RUNS
