"""A class: many submissions graded into one gradebook, one report, one similarity check.

The modules, in the order a batch goes: discover (which file is whose, the
roster), late (when each was submitted and what that costs), batch (workers
that grade them, resumable), gradebook (the CSV), health (tests most of the
class fails), class_report (the page), runtime_code and similarity/ (code
shared between submissions, code built at run time). course may import the
catalogue, grading and the base modules; never authoring or commands.
"""
