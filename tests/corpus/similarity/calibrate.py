"""Calibrate the similarity check on the corpus: how independent pairs and disguised copies score.

    python tests/corpus/similarity/calibrate.py [--set KEY=VALUE ...] [--grid KEY=V1,V2 ...]
                                                [--class DIR] [--verbose]

Builds the corpus of corpus.py (the class of independent members with its
disguised copies) in a temporary folder, runs the comparison with the
course handouts of tests/corpus/scaffolds/ as --scaffold (as an
instructor would pass the course's skeleton), and prints for every setting:

- independent pairs: how many, how many flagged at the default threshold,
  their largest similarities and the 99th percentile;
- disguised copies: each copy's similarity with its source, flagged or not;
- at thresholds 0.3 ... 0.7: the share of independent pairs flagged and the
  number of copies missed.

--class DIR compares a folder of real submissions instead (with copies of
its members planted the same way), for a check on work the corpus never saw.
Nothing is written outside the temporary folder.
"""
import argparse
import itertools
import json
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
from autograder.course import similarity  # noqa: E402
from autograder.course.similarity import Settings  # noqa: E402

SCAFFOLDS = sorted(corpus.SCAFFOLDS.glob('*'))
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def _value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def evaluate(folder, manifest, settings, threshold, scaffolds):
    """The numbers of one setting: a dict (see the module docstring)."""
    start = time.monotonic()
    result = similarity.compare(folder, threshold=threshold, settings=settings,
                                scaffolds=scaffolds)
    seconds = time.monotonic() - start
    copies, independent = manifest['copies'], set(manifest['independent'])
    by_pair = {frozenset((p.a, p.b)): p for p in result.pairs}
    n = len(independent)
    scores = sorted((p.similarity for p in result.pairs
                     if p.a in independent and p.b in independent), reverse=True)
    scores += [0.0] * (n * (n - 1) // 2 - len(scores))
    flagged_independent = [p for p in result.pairs if p.flagged and p.a in independent
                           and p.b in independent]
    copy_rows = []
    for copy, source in copies.items():
        pair = by_pair.get(frozenset((copy, source)))
        copy_rows.append({'copy': copy, 'similarity': pair.similarity if pair else 0.0,
                          'flagged': bool(pair and pair.flagged),
                          'matched': pair.matched if pair else 0,
                          'evidence': pair.evidence if pair else 0.0})
    others = [p for p in result.pairs if p.flagged and frozenset((p.a, p.b)) not in
              {frozenset(item) for item in copies.items()} and not
              (p.a in independent and p.b in independent)]
    own = {e.id: e.tokens for e in result.entries}
    matched = {frozenset((p.a, p.b)): p.matched for p in result.pairs}
    by_threshold = {}
    for t in THRESHOLDS:
        fp = sum(1 for p in result.pairs if p.a in independent and p.b in independent
                 and p.similarity >= t and p.matched >= settings.match_min)
        missed = sum(1 for row in copy_rows if not (row['similarity'] >= t and
                     row['matched'] >= settings.match_min))
        by_threshold[t] = (fp, missed)
    return {'seconds': seconds, 'independent': n, 'pairs': len(scores),
            'flagged_independent': flagged_independent, 'top': scores[:5],
            'p99': scores[len(scores) // 100] if scores else 0.0, 'copies': copy_rows,
            'other_flagged': others, 'own': own, 'by_threshold': by_threshold,
            'matched': matched, 'common_count': result.common_count}


def report(settings, numbers, verbose):
    changed = {f.name: getattr(settings, f.name) for f in fields(settings)
               if getattr(settings, f.name) != f.default}
    print(f"== settings {changed or 'default'} (common from {numbers['common_count']} "
          f"submissions; {numbers['seconds']:.1f} s)")
    fp = numbers['flagged_independent']
    print(f"   independent: {numbers['independent']} members, {numbers['pairs']} pairs, "
          f"{len(fp)} flagged ({100 * len(fp) / max(numbers['pairs'], 1):.2f}%); top "
          f"{', '.join(f'{s:.3f}' for s in numbers['top'])}; 99th percentile "
          f"{numbers['p99']:.3f}")
    for p in fp:
        print(f"     flagged: {p.a} {p.b} {p.similarity:.3f} (matched {p.matched}, evidence "
              f"{p.evidence:.1f}; files "
              f"{p.a_file} {p.a_file_share:.2f}, {p.b_file} {p.b_file_share:.2f})")
    missed = [row for row in numbers['copies'] if not row['flagged']]
    lowest = min((row['similarity'] for row in numbers['copies']), default=0.0)
    print(f"   copies: {len(numbers['copies'])}, {len(missed)} missed; lowest similarity "
          f"{lowest:.3f}")
    for row in numbers['copies'] if verbose else missed:
        print(f"     {'flagged' if row['flagged'] else 'MISSED '} {row['copy']}: "
              f"{row['similarity']:.3f} (matched {row['matched']}, evidence {row['evidence']:.1f})")
    for p in numbers['other_flagged']:
        print(f"     also flagged: {p.a} {p.b} {p.similarity:.3f}")
    print("   threshold: " + '; '.join(
        f"{t:g}: {100 * fp / max(numbers['pairs'], 1):.1f}% independent flagged, "
        f"{missed} copies missed" for t, (fp, missed) in numbers['by_threshold'].items()))
    if verbose:
        print("   own k-grams: " + ', '.join(f"{k} {v}" for k, v in
                                                sorted(numbers['own'].items())))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n\n', 2)[2])
    parser.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                        help="a Settings field for every run, e.g. k=16")
    parser.add_argument('--grid', action='append', default=[], metavar='KEY=V1,V2',
                        help="run every combination of these values")
    parser.add_argument('--threshold', type=float, default=similarity.DEFAULT_THRESHOLD)
    parser.add_argument('--class', dest='class_dir', metavar='DIR',
                        help="a folder of real submissions instead of the corpus")
    parser.add_argument('--no-scaffold', action='store_true',
                        help="leave the course handouts out of --scaffold")
    parser.add_argument('-v', '--verbose', action='store_true')
    args = parser.parse_args(argv)
    fixed = dict(item.split('=', 1) for item in args.set)
    grid = [(key, values.split(',')) for key, values in
            (item.split('=', 1) for item in args.grid)]
    names = {f.name for f in fields(Settings)}
    for key in list(fixed) + [key for key, _ in grid]:
        if key not in names:
            parser.error(f"{key} is not a setting; one of {', '.join(sorted(names))}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / 'class'
        if args.class_dir:
            manifest = corpus.plant(args.class_dir, folder)
        else:
            manifest = corpus.build(folder)
        print(f"corpus: {len(manifest['independent'])} independent members, "
              f"{len(manifest['copies'])} disguised copies; scaffolds: "
              f"{'none' if args.no_scaffold else ', '.join(p.name for p in SCAFFOLDS)}")
        scaffolds = [] if args.no_scaffold else SCAFFOLDS
        for combination in itertools.product(*[values for _, values in grid]):
            values = {key: _value(v) for key, v in fixed.items()}
            values.update({key: _value(v) for (key, _), v in zip(grid, combination)})
            settings = Settings(**values)
            report(settings, evaluate(folder, manifest, settings, args.threshold, scaffolds),
                   args.verbose)
    return 0


if __name__ == '__main__':
    sys.exit(main())
