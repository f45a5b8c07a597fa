"""The one exception that crosses the CLI boundary: the CLI prints it and exits 1."""


class ClirBenchError(Exception):
    """A user-facing error: what was found, what was expected, what to do."""
