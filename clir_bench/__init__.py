"""clir-bench: cross-lingual retrieval on low-resource languages under noisy training bitext."""

__version__ = "0.1.0"
