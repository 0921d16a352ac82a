"""`python -m bench`: run the benchmarks, print the table, write the results."""
import argparse
import sys
import time
from pathlib import Path

from . import (classes, contention, core, data, gradescope, grading, machine, memory, report,
               similarity, training)

SECTIONS = ('data', 'training', 'contention', 'grading', 'class', 'gradescope', 'memory',
            'similarity')
COMMITTED = core.KIT / 'bench' / 'RESULTS.md'


def build_parser():
    parser = argparse.ArgumentParser(
        prog='python -m bench',
        description="Benchmarks of the homework kit, each a ratio against a baseline "
                    "measured in the same command: MNIST loading (vs a CSV-lists loader), "
                    "training epochs (vs PyTorch on the CPU and the machine's matmul peak), "
                    "contention (1 vs 2 BLAS threads, idle and beside 4 CPU-bound "
                    "processes), grading (one submission by stage; -j 1 vs -j 2 "
                    "throughput), class (a course-style class against the reference's, "
                    "-j 1 and -j 2, the projection for 500), Gradescope's default container "
                    "simulated (0.5 CPU, 768 MB; needs root and cgroups), peak memory and the "
                    "similarity check (500 submissions, and against an archive of 500, vs 50). "
                    "Prints a table and writes OUT/results.json and OUT/results.md; "
                    "a full run of every section also writes bench/RESULTS.md. Run it from "
                    "the kit's top folder, on an otherwise idle machine.")
    parser.add_argument('--quick', action='store_true',
                        help="smoke run: one round, fewer epochs and tests, one BLAS thread "
                             "(one to two minutes; rough numbers)")
    parser.add_argument('--out', default=str(core.KIT / 'bench' / 'out'),
                        help="output folder (default: bench/out)")
    parser.add_argument('--only', action='append', choices=SECTIONS, metavar='SECTION',
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument('--rounds', type=int,
                        help="interleaved rounds of every measurement (default 3; 1 with "
                             "--quick)")
    parser.add_argument('--baseline-solutions', metavar='DIR',
                        help="also time the training of another solutions folder, e.g. the "
                             "last commit's: git archive HEAD solutions | tar -x -C /tmp/old "
                             "then --baseline-solutions /tmp/old/solutions")
    parser.add_argument('-q', '--quiet', action='store_true', help="no progress lines")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        build_parser().error("--rounds must be at least 1")
    baseline_solutions = None
    if args.baseline_solutions:
        baseline_solutions = Path(args.baseline_solutions).resolve()
        if not (baseline_solutions / 'utils.py').is_file():
            build_parser().error(f"--baseline-solutions: no utils.py in {baseline_solutions}")
    out = Path(args.out).resolve()
    sections = [s for s in SECTIONS if not args.only or s in args.only]
    settings = core.Settings(
        quick=args.quick, out=out, rounds=args.rounds or (1 if args.quick else 3),
        log=None if args.quiet else lambda text: print(f"[bench] {text}", file=sys.stderr,
                                                       flush=True))
    command = 'python -m bench' + (' ' + ' '.join(argv if argv is not None else sys.argv[1:])
                                   if (argv if argv is not None else sys.argv[1:]) else '')
    start = time.perf_counter()
    about = machine.describe()
    rows, training_results, grading_memory = [], {}, {}

    load = {}

    def attempt(section, unit, measure):
        # A section that fails becomes one 'error' row; the others still run.
        others = core.OtherWork()
        try:
            return measure()
        except Exception as err:  # noqa: BLE001
            rows.append(core.failed(section, section, unit, err))
            return None
        finally:
            load[section] = others.share()

    if 'data' in sections:
        rows.extend(attempt('data', 's', lambda: data.run(settings)) or [])
    if 'training' in sections:
        training_rows, training_results = attempt(
            'training', 's', lambda: training.run(settings, baseline_solutions)) or ([], {})
        rows.extend(training_rows)
    if 'contention' in sections:
        rows.extend(attempt('contention', 's', lambda: contention.run(settings)) or [])
    if 'grading' in sections:
        grading_rows, grading_memory = attempt(
            'grading', 's', lambda: grading.run(settings)) or ([], {})
        rows.extend(grading_rows)
    if 'class' in sections:
        rows.extend(attempt('class', 's', lambda: classes.run(settings)) or [])
    if 'gradescope' in sections:
        rows.extend(attempt('gradescope', 's', lambda: gradescope.run(settings)) or [])
    if 'memory' in sections:
        memory_rows = attempt('memory', 'MiB', lambda: memory.run(
            settings, grading_memory, training_results)) or []
        if 'grading' not in sections:
            memory_rows = [r for r in memory_rows if 'grading' not in r['name']] + [
                core.row(memory.SECTION, 'grading worker peak RSS', 'MiB', None,
                         status='skipped', note="measured by the grading section, "
                                                "which this run left out (--only)")]
        rows.extend(memory_rows)
    if 'similarity' in sections:
        rows.extend(attempt('similarity', 's', lambda: similarity.run(settings)) or [])
    about['loadavg_end'] = core.loadavg()
    about['other_work_by_section'] = load
    document = {'command': command, 'quick': args.quick, 'sections': sections,
                'rounds': settings.rounds, 'seconds': time.perf_counter() - start,
                'machine': about, 'rows': rows}
    report.write(document, out)
    print(report.text_table(rows))
    for entry in rows:
        if entry['status'] != 'ok':
            print(f"{entry['status']}: {entry['name']}: {entry['note']}")
    if report.busy_warning(document):
        print(report.busy_warning(document).replace('**', ''))
    print(f"\n{len(rows)} rows in {document['seconds']:.0f} s; notes and machine in "
          f"{out / 'results.md'}; data in {out / 'results.json'}")
    if not args.quick and list(sections) == list(SECTIONS):
        COMMITTED.write_text(report.markdown(document, 'Benchmark results: latest full run')
                             + report.kept_narrative(COMMITTED))
        print(f"commit-ready table: {COMMITTED}")
    return 1 if any(r['status'] == 'error' for r in rows) else 0
