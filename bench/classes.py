"""A class, graded as an instructor grades it: course-style submissions against copies of the reference.

The course-style half is the course-scaffold members of tests/corpus/class/
(our own independent right solutions, written against the course's 2021,
2023 and 2025 skeletons: its given CSV loader, lists, per-example loops in
one of them); the other half the same number of copies of the reference
solution. Each half is graded with `autograder batch -j 1` and `-j 2`, runs
interleaved, into fresh output folders, with the grader's cache warm. Every
submission must score full marks: the section measures the speed of right
verdicts. Rows: seconds per submission at -j 2 (the projection for 500 is
that times 500), the course-style class against the reference class, -j 2
against -j 1, and each stage's seconds per submission (summary.json).

Between the first and the last result: a batch pays some costs once (its
start-up, each worker's first grading, the class report) and, with an odd
class at -j 2, grades its last submission alone. A class of 500 barely
feels them, so the section also prints the rate between a batch's first and
last results (summary.json written times): (results - 1) over that span.
The projection for 500 uses it too: the whole run plus the rest of the 500
at that rate.

Cores used: the machine's busy CPU seconds (/proc/stat) over a batch's wall
time. One grading at -j 1 already keeps more than one core busy at times
(the reference's run goes on beside the student's), so -j 2 over -j 1 can
reach at most 2 over the cores -j 1 keeps busy; the scaling rows print that
ceiling beside the target.
"""
import json
import shutil
import statistics
import tempfile
from pathlib import Path

import yaml

from autograder.grading.sandbox.load import busy_seconds

from . import core
from .grading import QUICK_ONLY, STAGES, grade_batch, make_submissions

SECTION = 'class'
CORPUS = core.KIT / 'tests' / 'corpus' / 'class'
CLASS_SIZE = 500
TARGET_MINUTES = 30.0
TARGET_RATIO = 1.5
TARGET_SCALING = 1.7


def course_members():
    """[Path] of the course-scaffold members of tests/corpus/class (class.yaml)."""
    manifest = yaml.safe_load((CORPUS / 'class.yaml').read_text())
    return [CORPUS / m['id'] for m in manifest['members']
            if str(m['scaffold']).startswith('course')]


def _stage_seconds(out):
    """{stage: [seconds per submission]} from every summary.json of a batch folder."""
    stages = {}
    for path in sorted(Path(out, 'submissions').glob('*/summary.json')):
        seconds = json.loads(path.read_text()).get('seconds', {})
        for stage, value in seconds.items():
            stages.setdefault(stage, []).append(float(value))
    return stages


def _steady_rate(out):
    """Submissions per minute between a batch's first and last results, or None.

    Each grading writes its summary.json as it ends, so those files' modified
    times are the finish times (one clock, the machine's).
    """
    ends = sorted(path.stat().st_mtime
                  for path in Path(out, 'submissions').glob('*/summary.json'))
    if len(ends) < 3 or ends[-1] <= ends[0]:
        return None
    return 60.0 * (len(ends) - 1) / (ends[-1] - ends[0])


def run(settings):
    """The class rows (see the module's docstring)."""
    work = Path(tempfile.mkdtemp(prefix='bench-class-'))
    rows = []
    try:
        members = course_members()
        # --quick: a smoke run of the section's path, three of each (the fewest
        # with a rate between results) and a few tests.
        only = QUICK_ONLY if settings.quick else None
        if settings.quick:
            members = members[:3]
        count = len(members)
        course = work / 'course'
        for member in members:
            shutil.copytree(member, course / member.name)
        settings.say(f"class: {count} course-style members and {count} reference copies")
        reference = work / 'reference'
        make_submissions(reference, count, settings.solutions, name='reference')
        settings.say("class: warm-up (the grader's cache: CSV files, fonts, training split)")
        grade_batch(reference, work / 'warm', 1, only)
        per = {}      # (half, jobs) -> [seconds per submission]
        steady = {}   # (half, jobs) -> [submissions per minute between results]
        cores = {}    # (half, jobs) -> [machine CPU seconds / wall seconds]
        stages = {}   # half -> {stage: [seconds]} of the -j 2 runs
        rounds = 1 if settings.quick else max(1, settings.rounds // 2)
        order = [('course', 1), ('reference', 1), ('course', 2), ('reference', 2)]
        order = (order + order[::-1]) * rounds if not settings.quick else order
        for k, (half, jobs) in enumerate(order):
            settings.say(f"class: {half} -j {jobs} ({k + 1}/{len(order)})")
            out = work / f'{half}-j{jobs}-{k}'
            busy = busy_seconds()
            seconds, _, _ = grade_batch(work / half, out, jobs, only)
            if busy is not None:
                cores.setdefault((half, jobs), []).append((busy_seconds() - busy) / seconds)
            per.setdefault((half, jobs), []).append(seconds / count)
            rate = _steady_rate(out)
            if rate is not None:
                steady.setdefault((half, jobs), []).append(rate)
            if jobs == 2:
                for stage, values in _stage_seconds(out).items():
                    stages.setdefault(half, {}).setdefault(stage, []).extend(values)
        course_j2, reference_j2 = core.summary(per['course', 2]), core.summary(per['reference', 2])
        scope = (f"{count} course-style members of tests/corpus/class against {count} copies "
                 f"of the reference, `autograder batch -j N`, wall time of the whole command "
                 f"per submission (start-up and class report included)")
        budget = 60.0 * TARGET_MINUTES / CLASS_SIZE
        projection = f"{course_j2['median'] * CLASS_SIZE / 60:.1f} minutes at this run's rate"
        if steady.get(('course', 2)):
            rest = (CLASS_SIZE - count) / statistics.median(steady['course', 2])
            projection += (f", {(course_j2['median'] * count / 60 + rest):.1f} minutes from "
                           f"this run plus {CLASS_SIZE - count} more at the rate between its "
                           f"first and last results")
        rows.append(core.row(
            SECTION, 'course-style class, seconds per submission at -j 2', 's', course_j2,
            core.summary([budget]), f'{CLASS_SIZE} in {TARGET_MINUTES:g} minutes '
                                    f'({budget:.1f} s each)',
            target=('<=', 1.0, f'{CLASS_SIZE} in {TARGET_MINUTES:g} minutes'),
            note=f"{scope}. Projection for {CLASS_SIZE}: {projection}."))
        rows.append(core.row(
            SECTION, 'course-style class vs reference class, per submission at -j 2', 's',
            course_j2, reference_j2, 'the reference class',
            target=('<=', TARGET_RATIO, f'at most {TARGET_RATIO:g}x the reference'),
            note=scope))
        for half in ('course', 'reference'):
            j1, j2 = core.summary(per[half, 1]), core.summary(per[half, 2])
            ceiling = ''
            if cores.get((half, 1)) and cores.get((half, 2)):
                used1 = statistics.median(cores[half, 1])
                used2 = statistics.median(cores[half, 2])
                ceiling = (f" Cores kept busy (machine CPU seconds over wall seconds): "
                           f"{used1:.2f} at -j 1, {used2:.2f} at -j 2; with both cores busy "
                           f"all the time and the same CPU per submission, -j 2 reaches at "
                           f"most {2 / used1:.2f}x -j 1.")
                rows.append(core.row(
                    SECTION, f'{half} class, cores kept busy at -j 1', 'cores',
                    core.summary(cores[half, 1]), core.summary([1.0]), 'one core',
                    note="the machine's busy CPU seconds (/proc/stat) over the batch's wall "
                         "time: above 1, a grading overlaps work of its own (the "
                         "reference's run beside the student's)"))
            rows.append(core.row(
                SECTION, f'{half} class, -j 2 vs -j 1 (submissions per minute)', 'subs/min',
                core.summary([60 / s for s in per[half, 2]]),
                core.summary([60 / s for s in per[half, 1]]), '-j 1', better='higher',
                target=('>=', TARGET_SCALING, f'at least {TARGET_SCALING:g}x -j 1'),
                note=f"{j1['median']:.2f} s vs {j2['median']:.2f} s per submission; runs "
                     f"interleaved: {', '.join(f'{h} -j {j}' for h, j in order)}.{ceiling}"))
            if steady.get((half, 1)) and steady.get((half, 2)):
                rows.append(core.row(
                    SECTION, f'{half} class, -j 2 vs -j 1 between the first and the last '
                             f'result (submissions per minute)', 'subs/min',
                    core.summary(steady[half, 2]), core.summary(steady[half, 1]), '-j 1',
                    better='higher',
                    note="(results - 1) over the time between a batch's first and last "
                         "summary.json: the rate a large class sees, without the costs a "
                         "batch pays once (start-up, each worker's first grading, the class "
                         "report) and the last of an odd class graded alone at -j 2"))
            else:
                rows.append(core.row(
                    SECTION, f'{half} class, -j 2 vs -j 1 between the first and the last '
                             f'result (submissions per minute)', 'subs/min', None,
                    status='skipped', note="fewer than three results in a batch (--quick)"))
        for stage in ['total', *STAGES]:
            course_values = stages.get('course', {}).get(stage)
            reference_values = stages.get('reference', {}).get(stage)
            if not course_values or not reference_values:
                rows.append(core.row(SECTION, f'stage {stage}, seconds per submission (-j 2)',
                                     's', None, status='skipped',
                                     note="no submission of one class spent time in this "
                                          "stage (--quick grades a few tests)"))
                continue
            rows.append(core.row(
                SECTION, f'stage {stage}, seconds per submission (-j 2)', 's',
                core.summary([statistics.fmean(course_values)]),
                core.summary([statistics.fmean(reference_values)]), 'the reference class',
                note="summary.json seconds, mean over the class; a stage runs while the "
                     "other worker runs too"))
        return rows
    except Exception as err:  # the rows measured so far, and why the rest is missing
        rows.append(core.failed(SECTION, 'class', 's', err))
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)
