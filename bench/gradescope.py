"""Gradescope's default container, simulated: half a CPU and 768 MB of memory.

The grader runs in a control group of its own (bench/container.py) with
cpu.cfs_quota_us = 50 ms per 100 ms and a 768 MB memory limit; its sandboxed
runs and the reference runs beside them are made inside it and share those
limits. The grader gets the per-run memory limit that `autograder
gradescope-bundle` builds in by default (authoring.gradescope.DEFAULT_MEMORY).

Graded in each round, in a rotating order:
- the reference, unconstrained (the baseline of the timing rows);
- the reference in the simulation;
- a broken submission in the simulation (gradients summed over the batch
  instead of averaged: it must lose exactly two_layer.gradients and still
  train both models end to end).
A full run also grades the reference once in the simulation with an empty
grader cache, as setup.sh's check does when Gradescope builds the image (the
course's CSV files and the font cache are written then).

Memory is the group's own peak charge (memory.max_usage_in_bytes: resident
memory and page cache of every process in it), with a sampler saying who held
it at the peak (container.MemoryWatch).
"""
import json
import shutil
import tempfile
from pathlib import Path

from . import container, core, grading

SECTION = 'gradescope'
CPU_CORES = 0.5
MEMORY = 768 * 2**20
TIMEOUT = 600.0  # Gradescope's default autograder timeout, seconds
MIB = 2**20
# A bug whose cost does not depend on the course's secret: with summed gradients, say,
# whether the two-layer net still reaches its accuracy threshold depends on the split.
BROKEN = ("biases regularized too: `if name.startswith('W'):` made `if True:`",
          {'optimizer/_base_optimizer.py': [("if name.startswith('W'):", "if True:")]},
          ['regularization'])
LIMITS = f"{CPU_CORES:g} CPU (cfs quota), {MEMORY // MIB} MB"
ROWS = ('reference graded in the Gradescope simulation vs unconstrained',
        "reference in the Gradescope simulation vs Gradescope's 10-minute timeout",
        'reference score in the Gradescope simulation',
        'broken submission score in the Gradescope simulation',
        'broken submission graded in the Gradescope simulation vs the reference',
        'peak memory in the Gradescope simulation',
        'peak memory in the Gradescope simulation, first grading in an empty cache')


def _bundle_memory():
    """The per-run --memory that `autograder gradescope-bundle` builds in by default."""
    try:
        from autograder.authoring.gradescope import DEFAULT_MEMORY
        return DEFAULT_MEMORY
    except ImportError:  # an older kit: the CLI's default
        return '1.5G'


def _short(out):
    """[(test id, its feedback)] of the tests short of full marks, from OUT/results.json."""
    document = json.loads((Path(out) / 'results.json').read_text())
    return [(t['name'].split(':', 1)[0], (t.get('output') or '').strip())
            for t in document['tests'] if t['score'] < t['max_score']]


def _failing(short):
    """Sorted ids of the tests of _short()."""
    return sorted(test for test, _ in short)


def _lost(short):
    """'test id (its feedback, cut)' for each test of _short(), or 'none'."""
    return '; '.join(f"{test} ({feedback[:160]})" for test, feedback in short) or 'none'


def _simulated(zip_path, out, only, memory, extra_env=None):
    """Grade one zip inside a fresh Container; a dict of what it did and cost."""
    with container.Container(CPU_CORES, MEMORY) as box:
        with container.MemoryWatch(box) as watch:
            argv = grading.grade_argv(zip_path, out, only, memory=memory)
            child = core.run_child(box.wrap(argv), env=core.child_env(extra=extra_env),
                                   timeout=3 * TIMEOUT)
        if child.returncode != 0:
            raise RuntimeError(f"autograder grade in the simulation exited {child.returncode} "
                               f"(OOM kills in the group: {box.oom_kills()}): "
                               f"{child.stderr[-800:]}")
        summary = grading.read_summary(out)
        short = _short(out)
        return {'summary': summary, 'wall': child.seconds, 'peak': box.peak_memory() or
                watch.peak, 'cpu': box.cpu_seconds(), 'throttled': box.throttled_seconds(),
                'limit_hits': box.limit_hit(), 'oom_kills': box.oom_kills(),
                'failing': _failing(short), 'lost': _lost(short), 'watch': watch}


def _describe_peak(run):
    """Who held the memory at a simulated run's peak, in words."""
    watch = run['watch']
    stat = watch.at_peak.get('stat', {})
    top = watch.at_peak.get('processes', [])[:3]
    held = '; '.join(f"{cmd.split(' -I -S -B ')[-1][:60] if 'probes.py' in cmd else cmd[:60]}"
                     f" {anon / MIB:.0f} MiB anonymous + {file / MIB:.0f} MiB file-backed"
                     for cmd, anon, file in top)
    return (f"kernel peak {run['peak'] / MIB:.0f} MiB; at the sampled peak "
            f"({watch.at_peak.get('seconds', 0):.0f} s in) {stat.get('rss', 0) / MIB:.0f} MiB "
            f"anonymous and {stat.get('cache', 0) / MIB:.0f} MiB page cache, "
            f"{watch.at_peak.get('runs', 0) / MIB:.0f} MiB in sandboxed runs; largest "
            f"processes then: {held or '-'}. Over the run: sandboxed runs' groups at most "
            f"{watch.peak_runs / MIB:.0f} MiB together, everything else (grader, reference "
            f"runs, page cache) at most {watch.peak_rest / MIB:.0f} MiB "
            f"({watch.peak_rest_beside_runs / MIB:.0f} MiB while a sandboxed run was "
            f"charged), the grader's own "
            f"anonymous memory at most {watch.grader_anon / MIB:.0f} MiB; memory limit "
            f"reached {run['limit_hits']} time(s), {run['oom_kills']} OOM kill(s)")


def _skipped(reason):
    return [core.row(SECTION, name, 's', None, status='skipped', note=reason) for name in ROWS]


def run(settings):
    """The Gradescope-simulation rows (see the module's docstring). Returns [row]."""
    ok, why = container.available()
    if not ok:
        return _skipped(f"no Gradescope simulation here: {why}")
    container.remove_stale()
    from autograder.catalogue import load_catalogue
    catalogue = load_catalogue()
    memory = _bundle_memory()
    quick = settings.quick
    only = grading.QUICK_ONLY + BROKEN[2] if quick else None
    scope = (f"--only {' '.join(only)} (--quick)" if quick else "every test of the rubric")
    tests = [t for t in catalogue.tests if not only or t.id in only]
    possible = sum(t.spec.points for t in tests)
    expected = possible - sum(catalogue.by_id[i].spec.points for i in BROKEN[2])
    work = Path(tempfile.mkdtemp(prefix='bench-gradescope-'))
    rows = []
    try:
        (reference,) = grading.make_submissions(work / 'submissions', 1, settings.solutions)
        (broken,) = grading.make_submissions(work / 'submissions', 1, settings.solutions,
                                             changes=BROKEN[1], name='broken')
        cold = None
        if not quick:
            settings.say("gradescope: the reference in an empty grader cache (setup.sh's run)")
            cache = work / 'empty-cache'
            cold = _simulated(reference, work / 'cold', only, memory,
                              {'AUTOGRADER_CACHE': str(cache)})
            settings.say("gradescope: warm-up grading, unconstrained (the grader's cache)")
            grading.grade_one(reference, work / 'warm', only, expect_full=False)
        runs = {'host': [], 'sim': [], 'broken': []}
        rounds = 1 if quick else settings.rounds
        for r in range(rounds):
            for kind in core.rotate(['host', 'sim', 'broken'], r):
                settings.say(f"gradescope: {kind}, round {r + 1}/{rounds}")
                out = work / f'{kind}{r}'
                if kind == 'host':
                    summary, child = grading.grade_one(reference, out, only, expect_full=False)
                    runs[kind].append({'summary': summary, 'wall': child.seconds,
                                       'failing': _failing(_short(out))})
                else:
                    runs[kind].append(_simulated(reference if kind == 'sim' else broken, out,
                                                 only, memory))
        total = {k: core.summary([x['summary']['seconds']['total'] for x in v])
                 for k, v in runs.items()}
        sim = runs['sim']
        cpu = ', '.join(f"{x['cpu']:.1f}" for x in sim if x['cpu'] is not None)
        throttled = ', '.join(f"{x['throttled']:.1f}" for x in sim if x['throttled'] is not None)
        order = f"{rounds} round(s) of: unconstrained, simulation, broken in the simulation, " \
                f"the order rotating"
        rows.append(core.row(
            SECTION, ROWS[0], 's', total['sim'], total['host'],
            'the same reference graded unconstrained, interleaved',
            note=f"`autograder grade ZIP --memory {memory}` (the bundle's per-run limit) in a "
                 f"cgroup of {LIMITS} (bench/container.py), {scope}; seconds from "
                 f"summary.json; {order}. CPU seconds used in the group: {cpu}; seconds held "
                 f"back by the quota: {throttled}."))
        rows.append(core.row(
            SECTION, ROWS[1], 's', core.summary([x['wall'] for x in sim]),
            core.summary([TIMEOUT]), f"Gradescope's timeout: {TIMEOUT:g} s (not a measurement)",
            target=('<=', 1.0, 'well inside the timeout'),
            note="Wall time of the whole command (interpreter start-up included)."))
        scores = [x['summary']['score'] for x in sim]
        rows.append(core.row(
            SECTION, ROWS[2], 'points', core.summary(scores), core.summary([possible]),
            'full marks', better='higher', target=('>=', 1.0, 'full marks in every run'),
            target_on='min',
            note='; '.join(f"{x['summary']['score']:g}/{x['summary']['max_score']:g} "
                           f"({x['summary']['status']}"
                           + (f": {x['summary'].get('reason')}" if x['summary'].get('reason')
                              else '') + ')' for x in sim)))
        bad = runs['broken']
        exact = all(x['failing'] == sorted(BROKEN[2]) and x['summary']['status'] == 'graded'
                    for x in bad)
        rows.append(core.row(
            SECTION, ROWS[3], 'points', core.summary([x['summary']['score'] for x in bad]),
            core.summary([expected]), f"full marks less {', '.join(BROKEN[2])}",
            better='higher', target=('>=', 1.0, f"exactly {', '.join(BROKEN[2])} lost, "
                                                 f"every run"), met=exact,
            note=f"The reference with one bug ({BROKEN[0]}). Tests lost: "
                 + '; '.join(f"{', '.join(x['failing']) or 'none'} ({x['summary']['status']})"
                             for x in bad) + "."))
        rows.append(core.row(
            SECTION, ROWS[4], 's', total['broken'], total['sim'],
            'the reference in the simulation, same rounds',
            note="Both models still train end to end (the accuracy tests run)."))
        peaks = [x['peak'] for x in sim + bad]
        worst = max(sim + bad, key=lambda x: x['peak'])
        rows.append(core.row(
            SECTION, ROWS[5], 'MiB', core.summary([p / MIB for p in peaks]),
            core.summary([MEMORY / MIB]), f"the container's limit ({MEMORY // MIB} MiB)",
            target=('<=', 1.0, 'fits the container'), target_on='median',
            met=max(peaks) <= MEMORY and all(not x['oom_kills'] for x in sim + bad),
            note=f"memory.max_usage_in_bytes of the group (resident memory and page cache of "
                 f"the grader, its reference runs and the sandboxed runs), every simulated "
                 f"grading (reference and broken), the grader's cache filled. Largest run: "
                 f"{_describe_peak(worst)}."))
        if cold:
            rows.append(core.row(
                SECTION, ROWS[6], 'MiB', core.summary([cold['peak'] / MIB]),
                core.summary([MEMORY / MIB]), f"the container's limit ({MEMORY // MIB} MiB)",
                target=('<=', 1.0, 'fits the container'),
                met=cold['peak'] <= MEMORY and not cold['oom_kills'],
                note=f"One grading with AUTOGRADER_CACHE empty (the course's CSV files and "
                     f"matplotlib's font cache written), as setup.sh's check of the reference "
                     f"does when the image is built: score {cold['summary']['score']:g}/"
                     f"{cold['summary']['max_score']:g} in "
                     f"{cold['summary']['seconds']['total']:.0f} s (tests lost: {cold['lost']}); "
                     f"{_describe_peak(cold)}."))
        else:
            rows.append(core.row(SECTION, ROWS[6], 'MiB', None, status='skipped',
                                 note="measured by a full run only (--quick skips it)"))
        return rows
    except Exception as err:
        rows.append(core.failed(SECTION, 'Gradescope simulation', 's', err))
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)
        container.remove_stale()
