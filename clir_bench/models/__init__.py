"""Models: the encoder resolver, optimal-transport solvers and the OPTICAL trainer.

Everything here imports torch/transformers; the CLI imports it only for commands that train
or encode, never for `score`, `validate` or `tracks`.
"""
