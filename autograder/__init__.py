"""Instructor tooling of the homework kit: stub generation, grading, releases.

Run `autograder --help` (or `python -m autograder --help`) for the commands.
"""
__version__ = '0.1.0'
