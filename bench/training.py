"""Seconds per training epoch: the solutions' models vs PyTorch and vs the BLAS peak."""
import importlib.util
import time

from . import core

SECTION = 'training'
MODELS = {  # label -> config (the kit's default configs: batch 64, lr 0.1, reg 1e-3)
    'TwoLayerNet': 'configs/config_twolayer.yaml',
    'SoftmaxRegression': 'configs/config_softmax.yaml',
}
TARGET = ('<=', 0.6, 'at most 0.6x PyTorch')
PAUSE = 0.25  # seconds after each epoch: idle BLAS and OpenMP threads go to sleep
D, C = 784, 10


def epoch_flops(model, examples, hidden=128):
    """Multiply-add FLOPs (2 per multiply-add) of one epoch's matrix products.

    TwoLayerNet, per example: forward X W1 (2DH) and A1 W2 (2HC); backward
    A1^T dZ2 (2HC), dZ2 W2^T (2HC) and X^T dZ1 (2DH). SoftmaxRegression: X W1
    (2DC) and X^T dZ (2DC).
    """
    if model == 'TwoLayerNet':
        return examples * (4 * D * hidden + 6 * hidden * C)
    return examples * 4 * D * C


def _threads_label(threads):
    return 'default BLAS threads' if threads is None else f'{threads} BLAS thread'


def run(settings, baseline_solutions=None):
    quick = settings.quick
    torch_ok = importlib.util.find_spec('torch') is not None
    # --quick pins one BLAS thread: a smoke run must not depend on a second idle core
    # (two busy 2-thread processes on 2 cores run many times slower than 1-thread ones).
    thread_settings = [1] if quick else [None, 1]
    main = thread_settings[0]  # the setting of the target, the floor and the peak
    epochs, warmup = (1, 1) if quick else (3, 1)  # timed epochs per round, untimed first
    common = {'warmup': warmup, 'epochs': epochs, 'seed': 0}
    results, errors = {}, {}

    # Training: one long-lived worker per variant (numpy, PyTorch, baseline solutions;
    # both models), driven epoch by epoch in a rotating order, with a pause after each
    # epoch so that the last one's BLAS/OpenMP threads stop spinning. A burst of load
    # from elsewhere then hits every variant alike.
    for threads in thread_settings:
        variants = []
        for model, config in MODELS.items():
            params = {'seed': 0, 'config': str(settings.solutions / config),
                      'solutions': str(settings.solutions), 'threads': threads}
            variants.append((('numpy', model, threads), dict(params, impl='numpy')))
            if torch_ok:
                variants.append((('torch', model, threads), dict(params, impl='torch')))
            if baseline_solutions and threads == main:
                variants.append((('before', model, threads), dict(
                    params, impl='numpy', solutions=str(baseline_solutions),
                    config=str(baseline_solutions / config))))
        settings.say(f"training, {_threads_label(threads)}: starting {len(variants)} workers")
        servers, times = {}, {}
        for key, params in variants:
            try:
                servers[key] = core.Server(params, threads=threads)
                times[key] = []
            except Exception as err:  # reported in the row, the other rows still run
                errors[key] = err
        total = warmup + settings.rounds * epochs
        for k in range(total):
            if k == warmup or k == 0:
                settings.say(f"training, {_threads_label(threads)}: "
                             f"{'warm-up epoch' if k < warmup else f'{total - warmup} timed epochs each'}")
            for key in core.rotate(list(servers), k):
                try:
                    answer = servers[key].request('epoch')
                except Exception as err:
                    errors[key] = err
                    servers.pop(key).kill()
                    continue
                if k >= warmup:
                    times[key].append(answer['seconds'])
                time.sleep(PAUSE)
        for key, server in servers.items():
            try:
                summary, rss = server.close()
            except Exception as err:
                errors[key] = err
                continue
            results[key] = [dict(summary, epoch_seconds=times[key], max_rss=rss)]

    # The matrix-multiply floor and peak: separate short runs, one per round.
    trials = []
    for model in MODELS:
        floor = dict(common, solutions=str(settings.solutions), batch_size=64,
                     hidden_size=128 if model == 'TwoLayerNet' else None)
        trials.append((('floor', model, main), 'matmul_floor', floor))
    size = 1024 if quick else 2048
    for dtype in ('float32', 'float64'):
        trials.append((('peak', dtype, main), 'gemm_peak',
                       {'n': size, 'dtype': dtype, 'repeats': 3 if quick else 5}))
    for r in range(settings.rounds):
        settings.say(f"training: matmul floor and peak, round {r + 1}/{settings.rounds}")
        for key, task, params in core.rotate(trials, r):
            if key in errors:
                continue
            try:
                result, child = core.run_worker(task, params, threads=main)
            except Exception as err:
                errors[key] = err
                continue
            results.setdefault(key, []).append(result)

    def epochs_of(key):
        runs = results.get(key)
        return core.summary([t for run in runs for t in run['epoch_seconds']]) if runs else None

    def val_acc(key):
        runs = results.get(key)
        return runs[-1]['val_acc'] if runs else float('nan')

    n_epochs = warmup + settings.rounds * epochs
    rows = []
    for threads in thread_settings:
        for model in MODELS:
            name = f'{model} epoch, numpy solutions ({_threads_label(threads)})'
            key = ('numpy', model, threads)
            if key in errors or key not in results:
                rows.append(core.failed(SECTION, name, 's', errors.get(key, 'no result')))
                continue
            first = results[key][0]
            note = (f"utils.train on {first['examples']:,} examples, {first['batches']} batches "
                    f"of 64, float32 data (weights {first['weights_dtype']} while training); "
                    f"{warmup} warm-up epoch then {n_epochs - warmup} timed, each variant "
                    f"in its own process, all interleaved epoch by epoch. "
                    f"Validation accuracy after {n_epochs} epochs: numpy {val_acc(key):.4f}")
            tkey = ('torch', model, threads)
            if not torch_ok:
                rows.append(core.row(SECTION, name, 's', epochs_of(key), None,
                                     'PyTorch CPU, same work', status='skipped',
                                     target=TARGET if (model, threads) == ('TwoLayerNet', main)
                                     else None,
                                     note=note + ". PyTorch is not installed: the comparison "
                                     "is skipped (optional: install a CPU build of torch)."))
                continue
            if tkey in errors:
                rows.append(core.failed(SECTION, name, 's', errors[tkey],
                                        'PyTorch CPU, same work'))
                continue
            torch_run = results[tkey][0]
            note += (f", PyTorch {val_acc(tkey):.4f} (torch {torch_run['torch']}, "
                     f"{torch_run['threads']} threads; nn.Linear layers with the kit's initial "
                     f"weights, F.cross_entropy, optim.SGD with weight decay on the weight "
                     f"matrices only, loss.item() and accuracy every batch).")
            rows.append(core.row(
                SECTION, name, 's', epochs_of(key), epochs_of(tkey), 'PyTorch CPU, same work',
                target=TARGET if (model, threads) == ('TwoLayerNet', main) else None,
                note=note))

    peaks = {dtype: core.summary([g for run in results.get(('peak', dtype, main), [])
                                  for g in run['gflops']]) if results.get(('peak', dtype, main))
             else None for dtype in ('float32', 'float64')}
    label = _threads_label(main)
    for model in MODELS:
        key, fkey = ('numpy', model, main), ('floor', model, main)
        if key not in results:
            continue
        examples = results[key][0]['examples']
        flops = epoch_flops(model, examples)
        if fkey in results:
            rows.append(core.row(
                SECTION, f'{model} epoch vs its matrix products alone ({label})', 's', epochs_of(key),
                epochs_of(fkey), "the epoch's np.matmul calls alone (float32)",
                note=f"Baseline: the same products at the same shapes, into preallocated "
                     f"outputs ({label}); the ratio is what everything else (activations, "
                     "softmax, loss, SGD step, Python) adds."))
        if peaks['float32']:
            achieved = core.summary([flops / t / 1e9 for run in results[key]
                                     for t in run['epoch_seconds']])
            rows.append(core.row(
                SECTION, f'{model} epoch, achieved matmul GFLOP/s ({label})', 'GFLOP/s', achieved,
                peaks['float32'], f'sgemm peak ({size}x{size})', better='higher',
                note=f"{flops / 1e9:.2f} GFLOP of matrix products per epoch divided by the "
                     f"epoch's time; the ratio is the fraction of the machine's measured "
                     f"float32 matrix-multiply peak ({label})."))
    if peaks['float32'] and peaks['float64']:
        rows.append(core.row(
            SECTION, f'sgemm peak ({size}x{size}, {label})', 'GFLOP/s',
            peaks['float32'], peaks['float64'], 'dgemm peak (float64)', better='higher',
            note="np.matmul of two random square matrices, best of warm runs; the ratio is "
                 "the float32 speed-up."))
    if baseline_solutions:
        for model in MODELS:
            key, bkey = ('numpy', model, main), ('before', model, main)
            if key in results and bkey in results:
                rows.append(core.row(
                    SECTION, f'{model} epoch, solutions vs --baseline-solutions ({label})', 's',
                    epochs_of(key), epochs_of(bkey), f'solutions in {baseline_solutions}',
                    note=f"Validation accuracy after {n_epochs} epochs: these solutions "
                         f"{val_acc(key):.4f}, baseline {val_acc(bkey):.4f}."))
    for key, err in errors.items():
        if key[0] in ('peak', 'floor'):
            rows.append(core.failed(SECTION, f'{key[0]} {key[1]}', 's', err))
    return rows, results
