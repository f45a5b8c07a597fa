"""Evaluation: TREC run-file validation, qrels, metrics (pytrec_eval), scoring, typed score
reports and statistics. Knows nothing of tracks beyond what `judgments` reads from one; never
imports torch, transformers, POT, scipy or ir_datasets at module level."""
