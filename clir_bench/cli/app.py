"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import Annotated

import typer

from clir_bench import __version__

app = typer.Typer(
    name="clir-bench",
    help="Cross-lingual retrieval on low-resource languages under noisy training bitext.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from clir_bench.cli.common import out

        out.print(f"clir-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Cross-lingual retrieval on low-resource languages under noisy training bitext."""
