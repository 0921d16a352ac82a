"""The kit's benchmark suite: `python -m bench` (from the kit's top folder).

Every benchmark is a ratio against a baseline measured in the same command,
because a shared 2-core machine is noisy: the two sides run in separate child
processes, interleaved round by round, and each side reports the median and
the minimum of its runs.

    data      the kit's MNIST loader (first load, cached load) vs a classic
              CSV loader that builds Python lists of floats
    training  seconds per epoch of the solutions' models through utils.train
              vs the same network in PyTorch on the CPU (optional), and vs the
              machine's measured matrix-multiply speed
    grading   one submission end to end by stage, and submissions per minute
              with `autograder grade DIR -j 1` and `-j 2`
    memory    peak resident memory of a training run and of a grading worker

Results: a table on stdout, OUT/results.json, OUT/results.md (OUT defaults to
bench/out/), and after a full run of every section bench/RESULTS.md, the
table to commit. `--quick` is a smoke run of every section (well under a
minute on 2 cores; its numbers are rough).
"""
