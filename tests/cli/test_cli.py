"""The command line: version, help, and no heavy imports for score/validate (start-up time:
benchmarks/startup.py)."""

import subprocess
import sys

from clir_bench import __version__


def test_version_and_help(cli):
    code, output = cli("--version")
    assert code == 0 and output.strip() == f"clir-bench {__version__}"
    code, output = cli("-h")
    assert code == 0 and all(c in output for c in ("score", "validate", "tracks", "data"))


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "clir_bench", "--version"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and __version__ in result.stdout


def test_score_and_validate_never_import_torch_or_transformers(runs):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from clir_bench.cli import app\n"
        f"for args in (['validate', {str(runs / 'ok' / 'good.trec')!r}],\n"
        f"             ['score', {str(runs / 'ok' / 'good.trec')!r}, '--bootstrap', '100'],\n"
        "             ['tracks', 'show', 'noise-0.3']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('torch', 'transformers', 'ot', 'ir_datasets', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_help_text_survives_rich_markup():
    """Rich reads `[word]` in a help string as markup and drops it ("pyproject.toml's )." once):
    every command's and option's bracketed help text must appear in its rendered --help."""
    import re

    import click
    import typer
    from typer.testing import CliRunner

    from clir_bench.cli import app

    def walk(cmd: click.Command, path: list[str]):
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])

    checked = 0
    for path, cmd in walk(typer.main.get_command(app), []):
        texts = [cmd.help or ""] + [getattr(p, "help", None) or "" for p in cmd.params]
        wanted = [m for t in texts for m in re.findall(r"\[[A-Za-z][\w.-]*\]", t.replace("\\[", "["))]
        if not wanted:
            continue
        out = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400"}).output
        flat = re.sub(r"[\s│]+", " ", out)
        for token in wanted:
            checked += 1
            assert token in flat, f"{' '.join(path)} --help lost {token}"
    assert checked
