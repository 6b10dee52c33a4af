"""Evaluation harness: NLU cross-validation, answer accuracy on tests/eval/ and a BM25 baseline.

`python -m evaluation.run_eval --help` (or `make eval`). See docs/eval.md.
"""
