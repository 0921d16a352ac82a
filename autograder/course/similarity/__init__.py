"""Similarity check: rank the pairs of submissions whose own code is most alike.

    autograder similarity SUBMISSIONS_DIR --out DIR [--threshold X]
        [--scaffold DIR ...] [--against ARCHIVE ...] [--top N]

The modules, in the order the data flows:

- reading: each zip or folder through the grader's intake (allowlist, size
  limits), its .py files decoded as Python would (source: PEP 263 cookies,
  BOMs), code hidden behind exec of a decodable literal revealed
  (../runtime_code.py);
- tokens: Python's tokenize, comments and docstrings dropped, bound names
  to a placeholder, literals to their kind;
- fingerprints, document, scaffold: k-gram hashes per file, the scaffold's
  tokens masked;
- index: k-grams common to the class masked (MOSS's -m), every pair's
  shares from an index of the rest;
- compare: the whole run, pairs ranked; regions and report: which files
  carry a match and the regions side by side. The command is
  autograder/commands/similarity.py.

docs/similarity.md says what a score means and how the defaults were chosen.
Nothing a student sent is executed.
"""
from .compare import DEFAULT_THRESHOLD, Pair, Result, SimilarityError, compare
from .index import Settings
from .report import DEFAULT_TOP, pair_files, write_report

__all__ = ['DEFAULT_THRESHOLD', 'Pair', 'Result', 'SimilarityError',
           'compare', 'Settings', 'DEFAULT_TOP', 'pair_files', 'write_report']
