"""Peak resident memory of a training run and of a grading worker."""
import sys
import tempfile

from . import core

SECTION = 'memory'
MIB = 2 ** 20


def _mib(values):
    return core.summary([v / MIB for v in values])


def run(settings, grading_memory, training_results):
    """Rows for the training run (measured here) and the grading worker (measured by
    the grading section, passed in as grading_memory)."""
    threads = 1 if settings.quick else None
    epochs = 1 if settings.quick else 2
    repeats = settings.rounds
    baseline, trainings = [], []
    # One untimed load first, so that every measured process finds a valid cache.
    core.run_worker('memory_data', {'solutions': str(settings.solutions)}, threads=threads)
    for r in range(repeats):
        settings.say(f"memory: round {r + 1}/{repeats}")
        _, child = core.run_worker('memory_data', {'solutions': str(settings.solutions)},
                                   threads=threads)
        baseline.append(child.max_rss)
        with tempfile.TemporaryDirectory(prefix='bench-train-') as out:
            child = core.run_child(
                [sys.executable, 'train.py', 'configs/config_twolayer.yaml', '--epochs',
                 str(epochs), '--out', out], env=core.child_env(threads),
                cwd=settings.solutions, timeout=900)
        if child.returncode != 0:
            raise RuntimeError(f"train.py exited {child.returncode}: {child.stderr[-800:]}")
        trainings.append(child.max_rss)
    data = _mib(baseline)
    data_name = 'numpy + MNIST loaded and touched'
    rows = [core.row(
        SECTION, f'training run peak RSS (train.py config_twolayer, {epochs} epoch'
        f"{'s' if epochs > 1 else ''})", 'MiB', _mib(trainings), data, data_name,
        note="ru_maxrss of the child from wait4(): `python train.py "
             "configs/config_twolayer.yaml` (shuffled copy of the training set each epoch, "
             "learning curves drawn with matplotlib at the end). Baseline: a process that "
             "only imports numpy, loads train+test with the kit's loader and touches every "
             "page (the data's own footprint).")]

    workers = grading_memory.get('workers')
    if workers:
        tree = grading_memory.get('batch_tree', 0) / MIB
        rows.append(core.row(
            SECTION, 'grading worker peak RSS (batch -j 2)', 'MiB', _mib(workers), data,
            data_name, note=f"VmHWM of each worker process of `autograder grade FOLDER -j 2`, "
                            f"read from /proc every 50 ms (a worker holds its Grader, the "
                            f"grading data and the judge; sandboxed test runs are separate, "
                            f"cgroup-limited processes). Largest total of the whole process "
                            f"tree: {tree:.0f} MiB."))
    elif grading_memory.get('single'):
        rows.append(core.row(
            SECTION, 'grading process peak RSS (one submission)', 'MiB',
            _mib([grading_memory['single']]), data, data_name,
            note="ru_maxrss from wait4() of `autograder grade ZIP`: its largest process "
                 "(no batch mode to measure a worker)."))
    else:
        rows.append(core.row(SECTION, 'grading worker peak RSS', 'MiB', None, status='error',
                             note="not measured: the grading section failed"))

    for model in ('TwoLayerNet', 'SoftmaxRegression'):
        numpy_runs = [r for key, runs in training_results.items()
                      if key[:2] == ('numpy', model) for r in runs]
        torch_runs = [r for key, runs in training_results.items()
                      if key[:2] == ('torch', model) for r in runs]
        if numpy_runs and torch_runs:
            rows.append(core.row(
                SECTION, f'{model} training worker peak RSS, numpy vs PyTorch', 'MiB',
                _mib([r['max_rss'] for r in numpy_runs]),
                _mib([r['max_rss'] for r in torch_runs]), 'PyTorch training worker',
                note="ru_maxrss of the training section's worker processes (same data, "
                     "same epochs)."))
    return rows
