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
    contention  a TwoLayerNet epoch with 1 and 2 BLAS threads, idle and beside 4
              CPU-bound processes, against its fair share; one submission graded
              idle and beside them
    grading   one submission end to end by stage, and submissions per minute
              with `autograder batch DIR -j 1` and `-j 2`
    gradescope  Gradescope's default container simulated with a cgroup (0.5 CPU,
              768 MB; bench/container.py): the reference and a broken submission
              graded end to end, time, scores and peak memory
    memory    peak resident memory of a training run and of a grading worker

Results: a table on stdout, OUT/results.json, OUT/results.md (OUT defaults to
bench/out/), and after a full run of every section bench/RESULTS.md, the
table to commit. `--quick` is a smoke run of every section (one to two
minutes on 2 cores; its numbers are rough).
"""
