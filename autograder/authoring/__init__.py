"""What instructors build and publish, and how they test the tests.

The modules: stubs (student_version/ from solutions/), notebook (nbgrader's
rendering of the student notebook), nbcourse, nbkernel and nbfolders (the
nbgrader course and its sandboxed kernel), release (the student zip),
archive (the one zip writer), gradescope (the Gradescope bundle), calibrate
(bands and budgets from the reference), mutate and mutants (mutation
testing of the hidden tests). authoring may import the catalogue, grading,
course and the base modules; never commands.
"""
