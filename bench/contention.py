"""Contention: training and grading with CPU-bound processes running beside them.

On a shared 2-core machine a process rarely has the cores to itself. OpenBLAS
threads spin while they wait for each other, so a 2-thread product whose
second thread is off the CPU stalls the first: under load an epoch can take
many times its fair share. This section measures the choice of one BLAS
thread per process (the kit's default in utils.train and in every grader):

- a TwoLayerNet epoch (batch 64, float32, the solutions through utils.train)
  with 1 and 2 BLAS threads, on the idle machine and with SPINNERS CPU-bound
  processes beside it; the two thread counts in separate long-lived
  processes, and the idle and loaded epochs interleaved round by round;
- one submission graded end to end (`autograder grade`), idle and beside the
  same spinners, interleaved round by round.

"Fair share": with k CPU-bound processes beside it on c cores, a 1-thread
task that the scheduler treats like any other gets c / (k + 1) of a core, so
it should take idle_time * (k + 1) / c (never less than idle_time). The
target is the loaded 1-thread epoch within 1.3x of that.
"""
import shutil
import tempfile
import time
from pathlib import Path

from . import core, grading

SECTION = 'contention'
SPINNERS = 4
CONFIG = 'configs/config_twolayer.yaml'
FAIR_TARGET = ('<=', 1.3, 'within 1.3x of its fair share')
QUICK_BATCHES = 150  # --quick times the first 150 batches of an epoch, not all 750


def _epochs(settings, threads_list, rounds, log_every=1):
    """{(threads, 'idle' | 'loaded'): [seconds]} of TwoLayerNet epochs.

    One server per thread count (core.Server: data loaded once), each round an
    epoch of every server on the idle machine, then one of every server with
    SPINNERS spinners running, the servers' order rotating from round to round.
    """
    params = {'seed': 0, 'config': str(settings.solutions / CONFIG),
              'solutions': str(settings.solutions), 'impl': 'numpy'}
    if settings.quick:
        params['batches'] = QUICK_BATCHES
    servers = {}
    times = {(t, load): [] for t in threads_list for load in ('idle', 'loaded')}
    cpu = {key: [] for key in times}
    try:
        for threads in threads_list:
            servers[threads] = core.Server(dict(params, threads=threads), threads=threads)
        for threads in threads_list:  # warm-up, untimed: pages touched, pools started
            servers[threads].request('epoch')
        for r in range(rounds):
            settings.say(f"contention: training round {r + 1}/{rounds}")
            for load in ('idle', 'loaded'):
                spinners = core.Spinners(SPINNERS if load == 'loaded' else 0).start()
                try:
                    for threads in core.rotate(threads_list, r):
                        answer = servers[threads].request('epoch')
                        times[(threads, load)].append(answer['seconds'])
                        cpu[(threads, load)].append(answer.get('cpu', 0.0))
                        time.sleep(0.25)  # idle BLAS threads go to sleep
                finally:
                    spinners.stop()
                time.sleep(0.5)
        summaries = {}
        for threads, server in servers.items():
            summaries[threads], _ = server.close()
            summaries[threads]['cpu'] = {load: cpu[(threads, load)] for load in ('idle', 'loaded')}
        return times, summaries
    finally:
        for server in servers.values():
            server.kill()


def _gradings(settings, zip_path, work, rounds, only):
    """{'idle' | 'loaded': [summary.json]} of one submission graded idle and beside the
    spinners, alternating, the first condition rotating from round to round."""
    out = {'idle': [], 'loaded': []}
    for r in range(rounds):
        for load in core.rotate(['idle', 'loaded'], r):
            settings.say(f"contention: grading, {load}, round {r + 1}/{rounds}")
            with core.Spinners(SPINNERS if load == 'loaded' else 0):
                summary, _ = grading.grade_one(zip_path, work / f'{load}{r}', only,
                                               expect_full=False)
            out[load].append(summary)
    return out


def _cpu(summary, load):
    """The median CPU seconds per epoch of one server under one load, as text."""
    values = summary.get('cpu', {}).get(load) or []
    return f"{core.summary(values)['median']:.2f} s" if values else '-'


def run(settings):
    """The contention rows: epochs with 1 and 2 BLAS threads idle and loaded, and one
    submission graded idle and loaded. Returns [row]."""
    rows = []
    rounds = settings.rounds
    epoch_note = ((f"the first {QUICK_BATCHES} batches of an epoch (--quick)" if settings.quick
                   else "a whole epoch, 750 batches of 64") + ", float32, utils.train of the "
                  "solutions with blas_threads=1 or 2 (threadpoolctl) in two long-lived "
                  "processes")
    factor = core.fair_share(1.0, SPINNERS)  # (k + 1) / c
    usable = round((SPINNERS + 1) / factor) if factor > 1 else None
    try:
        times, summaries = _epochs(settings, [1, 2], rounds)
        idle1, idle2 = core.summary(times[(1, 'idle')]), core.summary(times[(2, 'idle')])
        loaded1, loaded2 = core.summary(times[(1, 'loaded')]), core.summary(times[(2, 'loaded')])
        fair = core.summary([core.fair_share(t, SPINNERS) for t in times[(1, 'idle')]])
        order = (f"{rounds} round(s), each: an idle epoch of each thread count, then one of "
                 f"each with {SPINNERS} spinners (`python -c 'while True: pass'`-like "
                 f"processes) running; the thread counts' order alternates")
        rows.append(core.row(
            SECTION, 'TwoLayerNet epoch, idle machine, 2 BLAS threads vs 1', 's', idle2, idle1,
            '1 BLAS thread, idle, same rounds',
            note=f"{epoch_note}; {order}. Below 1: a second thread helps on an idle machine. "
                 f"Validation accuracy at the end: {summaries[1]['val_acc']:.4f} (1 thread), "
                 f"{summaries[2]['val_acc']:.4f} (2 threads)."))
        rows.append(core.row(
            SECTION, f'TwoLayerNet epoch beside {SPINNERS} CPU-bound processes, 1 BLAS thread, '
            f'vs its fair share', 's', loaded1, fair,
            f'fair share: the idle 1-thread epoch x {factor:g}', target=FAIR_TARGET,
            note=f"CPU seconds per epoch (the process's, shuffling included), idle / loaded: "
                 f"{_cpu(summaries[1], 'idle')} / {_cpu(summaries[1], 'loaded')}: above the "
                 f"idle figure, the same work costs more CPU beside the spinners (caches, "
                 f"shared cores), below the wall time the process waited for a CPU. "
                 f"Fair share = idle time x (k + 1) / c with k = {SPINNERS} spinners on c = "
                 f"{usable} cores: what an even scheduler would give a 1-thread process "
                 f"(the bench's processes and its spinners share one nice level; other "
                 f"users' processes are not counted, see the machine's load). {order}."))
        rows.append(core.row(
            SECTION, f'TwoLayerNet epoch beside {SPINNERS} CPU-bound processes, 2 BLAS threads, '
            f'vs the fair share of 1', 's', loaded2, fair,
            f'fair share of the 1-thread epoch (idle x {factor:g})',
            note=f"The same fair share as the row above: a 2-thread epoch whose threads spin "
                 f"while they wait for each other falls far behind it. CPU seconds per epoch "
                 f"(both threads), idle / loaded: {_cpu(summaries[2], 'idle')} / "
                 f"{_cpu(summaries[2], 'loaded')}."))
        rows.append(core.row(
            SECTION, f'TwoLayerNet epoch beside {SPINNERS} CPU-bound processes, 2 BLAS threads '
            f'vs 1', 's', loaded2, loaded1, f'1 BLAS thread beside {SPINNERS} spinners',
            note="The choice under contention: above 1, one thread is faster."))
    except Exception as err:  # the grading below still runs
        rows.append(core.failed(SECTION, 'TwoLayerNet epochs idle and loaded', 's', err))

    work = Path(tempfile.mkdtemp(prefix='bench-contention-'))
    try:
        only = grading.QUICK_ONLY if settings.quick else None
        scope = (f"--only {' '.join(grading.QUICK_ONLY)} (--quick)" if settings.quick
                 else "every test of the rubric")
        (zip_path,) = grading.make_submissions(work / 'submissions', 1, settings.solutions)
        if not settings.quick:
            settings.say("contention: warm-up grading (the grader's cache)")
            grading.grade_one(zip_path, work / 'warm', only)
        graded = _gradings(settings, zip_path, work, 1 if settings.quick else rounds, only)
        idle = [s['seconds']['total'] for s in graded['idle']]
        loaded = [s['seconds']['total'] for s in graded['loaded']]
        rows.append(core.row(
            SECTION, f'one submission graded beside {SPINNERS} CPU-bound processes vs its fair '
            f'share', 's', core.summary(loaded),
            core.summary([core.fair_share(t, SPINNERS) for t in idle]),
            f'fair share: the idle grading x {factor:g}',
            note=f"`autograder grade ZIP` of the reference, {scope}, seconds from "
                 f"summary.json; idle and loaded gradings alternate. Idle: "
                 f"{', '.join(f'{t:.1f}' for t in idle)} s. The grader runs the reference "
                 f"beside the student's code (two processes), so it can beat a 1-process "
                 f"fair share."))
        scores = [s['score'] for s in graded['idle'] + graded['loaded']]
        possible = graded['idle'][0]['max_score']
        how = '; '.join(f"{load} {s['score']:g}/{s['max_score']:g} ({s['status']}"
                        + (f": {s.get('reason')}" if s.get('reason') else '') + ')'
                        for load in ('idle', 'loaded') for s in graded[load])
        rows.append(core.row(
            SECTION, f'reference score, idle and beside {SPINNERS} CPU-bound processes', 'points',
            core.summary(scores), core.summary([possible]), 'full marks', better='higher',
            target=('>=', 1.0, 'full marks in every run'), target_on='min',
            note=f"Every grading of this section: {how}."))
    except Exception as err:
        rows.append(core.failed(SECTION, 'one submission graded idle and loaded', 's', err))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows
