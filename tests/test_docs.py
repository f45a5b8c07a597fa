"""The documents hold: the README's participant path runs as written, every other documented
`clir-bench` command names a real command and real options, and the findings' tables equal what
the recorded reference runs give."""

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from clir_bench.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path: Path) -> list[list[str]]:
    """The shell blocks of a document, each a list of command lines (continuations joined,
    comments and `#` lines dropped)."""
    blocks = []
    for body in re.findall(r"```sh\n(.*?)```", path.read_text("utf-8"), re.S):
        lines, pending = [], ""
        for raw in body.splitlines():
            line = pending + raw.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.append(line)
        blocks.append(lines)
    return blocks


def _clir_commands():
    for path in DOCS:
        for block in _blocks(path):
            for line in block:
                words = shlex.split(line)
                if words[:1] == ["clir-bench"]:
                    yield path.relative_to(ROOT).as_posix(), words[1:]
                elif words[:3] == ["python", "-m", "clir_bench"]:
                    yield path.relative_to(ROOT).as_posix(), words[3:]
                elif words[:1] == ["torchrun"] and "clir_bench" in words:
                    yield path.relative_to(ROOT).as_posix(), words[words.index("clir_bench") + 1:]


COMMANDS = list(_clir_commands())


@pytest.mark.parametrize("doc, words", COMMANDS, ids=[f"{d}: {' '.join(w)[:60]}" for d, w in COMMANDS])
def test_every_documented_command_and_option_exists(doc, words):
    command = typer.main.get_command(app)
    args = list(words)
    while args and hasattr(command, "commands") and args[0] in command.commands:
        command = command.commands[args.pop(0)]
    runnable = not hasattr(command, "commands") or command.invoke_without_command
    assert runnable, f"{doc}: `clir-bench {' '.join(words)}` names no command"
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    for word in args:
        if word.startswith("-") and not re.fullmatch(r"-?\d+(\.\d+)?", word):
            assert word.split("=")[0] in known, f"{doc}: `clir-bench {' '.join(words)}`: no option {word}"


def test_the_readme_participant_path_runs_as_written(cli, tmp_path, monkeypatch):
    """The README's 'Taking part' block, command by command, in a scratch folder with a copy of
    the store (so `submit` writes there) and the example system."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Taking part"):text.index("## From Python")]
    (block,) = _blocks_of(section)
    shutil.copytree(ROOT / "submissions", tmp_path / "submissions")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    ran = []
    for line in block:
        words = shlex.split(line)
        if words[:2] == ["pip", "install"]:
            continue
        if words[0] == "python":
            subprocess.run([sys.executable, *words[1:]], check=True, capture_output=True)
        else:
            assert words[0] == "clir-bench", line
            code, output = cli(*words[1:])
            assert code == 0, f"{line}\n{output}"
        ran.append(words[1] if words[0] == "clir-bench" else words[0])
    assert ran == ["tracks", "data", "python", "validate", "score", "compare", "submit", "leaderboard"]
    assert (tmp_path / "submissions" / "noise-0.3" / "char4-tfidf" / "metadata.json").is_file()
    assert "char4-tfidf" in (tmp_path / "build" / "leaderboard" / "index.html").read_text()


def _blocks_of(markdown: str) -> list[list[str]]:
    scratch = Path(__file__).with_name("__doc_section__.md")
    try:
        scratch.write_text(markdown, "utf-8")
        return _blocks(scratch)
    finally:
        scratch.unlink()


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_findings_curves_table_equals_the_committed_curves():
    import json

    curves = _module("learning_curves")
    text = (ROOT / "docs" / "findings.md").read_text("utf-8")
    written = dict(re.findall(r"<!-- checked: (\w+) -->\n(.*?)\n<!-- end checked -->", text, re.S))
    stored = [json.loads(p.read_text()) for p in sorted(curves.CURVES.glob("*.json"))]
    assert written["curves"] == curves.curves_table(stored), "docs/findings.md: rerun learning_curves.py --report"


def test_the_findings_tables_equal_the_recorded_runs():
    spec = importlib.util.spec_from_file_location("findings_table", ROOT / "experiments" / "findings_table.py")
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    text = (ROOT / "docs" / "findings.md").read_text("utf-8")
    written = dict(re.findall(r"<!-- checked: (\w+) -->\n(.*?)\n<!-- end checked -->", text, re.S))
    root = ROOT / "submissions"
    assert written["results"] == tables.results_table(root), "docs/findings.md: rerun experiments/findings_table.py"
    assert written["ot"] == tables.ot_table(root), "docs/findings.md: rerun experiments/findings_table.py"
    assert written["ot_standard"] == tables.ot_table(root, "standard"), "docs/findings.md: rerun findings_table.py"
    assert written["noise"] == tables.noise_table(root), "docs/findings.md: rerun experiments/findings_table.py"
