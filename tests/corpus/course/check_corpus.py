#!/usr/bin/env python3
"""Self-check of the course-style corpus (no MNIST, no grader).

    python tests/corpus/course/check_corpus.py [-v]

1. Builds every base of bugs.yaml into a temporary folder (correct/ and
   correct2025/, course-style; the kit's solutions/) and runs probe.py in it;
   a base that is graded (it declares `expect`) must also pass probe.py's
   selfcheck: numeric gradient checks of both models, exact SGD steps, a
   short descent on random data, the data loading, batching, train/evaluate
   and plot_curves behaviour of its style, the package exports.
2. Builds every variant from its base (each old text must occur exactly
   once), byte-compiles it and runs the same probes: a variant marked
   `equivalent: true` must agree with its base on every probe, except the
   probes it lists under `differs_only_on` (where the course leaves the
   behaviour open), on which it must differ; one marked `equivalent: false`
   must differ on at least one. A variant with `sizes: mnist` is probed,
   and compared with its base, at MNIST's sizes.

Standard library, numpy, matplotlib and PyYAML (the kit's and every student
package's dependencies). bugs.yaml is read with PyYAML: its variants carry
nested mappings (expect, notes) that a hand-written reader would have to
grow for, and the graders' tests read the same file the same way. One short
subprocess per package, with one BLAS thread.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
BUGS = HERE / 'bugs.yaml'
PROBE = HERE / 'probe.py'

# --------------------------------------------------------------------------
# bugs.yaml
# --------------------------------------------------------------------------

BASE_KEYS = {'style', 'path', 'describe', 'expect'}
BUG_KEYS = {'id', 'kind', 'equivalent', 'behaviour', 'edits', 'base', 'expect', 'may_also_fail',
            'notes', 'differs_only_on', 'sizes', 'seen_in', 'note'}


def _outcome(owner, key, value):
    """A {test id: words its feedback must contain} mapping, checked."""
    assert isinstance(value, dict), '%s: %s must be a mapping' % (owner, key)
    for test, words in value.items():
        assert isinstance(test, str) and isinstance(words, str) and words, (owner, key, test)
    return value


def load_corpus():
    """(bases, bugs) of bugs.yaml, every key checked.

    bases: {name: {style, path (Path), expect or None}}; bugs: list of variant
    mappings, each with 'base' filled in (default 'correct').
    """
    raw = yaml.safe_load(BUGS.read_text())
    assert set(raw) == {'bases', 'bugs'}, 'bugs.yaml: top-level keys are bases and bugs'
    bases = {}
    for name, spec in raw['bases'].items():
        assert set(spec) <= BASE_KEYS and spec.get('style') in ('course', 'kit'), (name, spec)
        path = (HERE / spec['path']).resolve()
        assert path.is_dir(), '%s: no folder %s' % (name, path)
        expect = _outcome(name, 'expect', spec['expect']) if 'expect' in spec else None
        bases[name] = dict(spec, path=path, expect=expect)
    bugs = raw['bugs']
    ids = [b['id'] for b in bugs]
    assert len(ids) == len(set(ids)), 'bugs.yaml: duplicate ids'
    assert not set(ids) & set(bases), 'bugs.yaml: a variant is named like a base'
    for b in bugs:
        assert set(b) <= BUG_KEYS, '%s: unknown keys %s' % (b['id'], sorted(set(b) - BUG_KEYS))
        for key in ('kind', 'equivalent', 'behaviour', 'edits', 'expect'):
            assert key in b, '%s: missing %s' % (b['id'], key)
        b.setdefault('base', 'correct')
        assert b['base'] in bases, '%s: unknown base %s' % (b['id'], b['base'])
        assert b.get('sizes', 'mnist') == 'mnist', '%s: sizes is mnist or absent' % b['id']
        assert isinstance(b['equivalent'], bool), b['id']
        for key in ('expect', 'may_also_fail', 'notes'):
            _outcome(b['id'], key, b.get(key, {}))
        # One fact, one place: full marks exactly when the variant behaves as
        # its base wherever the course specifies the behaviour.
        assert (not b['expect']) == b['equivalent'], \
            '%s: expect must be {} exactly when equivalent is true' % b['id']
        assert not b.get('differs_only_on') or b['equivalent'], \
            '%s: differs_only_on belongs to an equivalent variant' % b['id']
        assert b['edits'], b['id']
        for e in b['edits']:
            assert set(e) == {'file', 'old', 'new'}, (b['id'], e)
    return bases, bugs


# --------------------------------------------------------------------------
# building and probing packages
# --------------------------------------------------------------------------

# What a submission holds: the kit's solutions/ also has its tests, notebook
# and tools, which are no part of a student's package.
IGNORED = shutil.ignore_patterns('__pycache__', '*.pyc', 'tests', '*.ipynb', 'pytest.ini',
                                 'train.py', 'gradcheck.py', 'config.py', 'submission_files.txt')


def build(dest, source, edits=()):
    """Copy the package at `source` to dest and apply the edits in order; every
    old text must occur exactly once in its file at the moment it is applied."""
    shutil.copytree(source, dest, ignore=IGNORED)
    for e in edits:
        path = dest / e['file']
        text = path.read_text()
        count = text.count(e['old'])
        if count != 1:
            raise AssertionError('%s: old text occurs %d times, not once:\n%s'
                                 % (e['file'], count, e['old']))
        path.write_text(text.replace(e['old'], e['new']))
    for py in sorted(dest.rglob('*.py')):
        compile(py.read_text(), str(py), 'exec')  # syntax check, nothing written


# The 2025 skeleton imports jaxtyping for its annotations only. Where it is not
# installed the probe gets this stand-in, which accepts Float[np.ndarray, "..."]
# and means nothing: the probes judge values, not annotations.
JAXTYPING_SHIM = (
    '"""Stand-in for jaxtyping (annotations only) used by the corpus probes."""\n'
    'class _Annotation:\n'
    '    def __init__(self, name):\n'
    '        self.name = name\n'
    '    def __getitem__(self, item):\n'
    '        return self\n'
    'Float = _Annotation("Float")\n'
    'Int = _Annotation("Int")\n')


def _shim_path():
    try:
        import jaxtyping  # noqa: F401
        return None
    except ImportError:
        folder = Path(tempfile.mkdtemp(prefix='jaxtyping_shim_'))
        (folder / 'jaxtyping.py').write_text(JAXTYPING_SHIM)
        return folder


def run_probe(pkg, style, selfcheck, mnist_sizes=False, timeout=600):
    """Run probe.py inside the package folder `pkg`; its report as a dict.

    Raises AssertionError with the probe's output when it fails (a selfcheck
    claim that does not hold, or an import that breaks).
    """
    out = pkg.parent / (pkg.name + ('.mnist' if mnist_sizes else '') + '.json')
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONDONTWRITEBYTECODE='1',
               OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('PROBE_MNIST_SIZES', None)
    env.pop('MNIST_DIR', None)
    shim = _shim_path()
    if shim:
        env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(shim), env.get('PYTHONPATH')]))
    if mnist_sizes:
        env['PROBE_MNIST_SIZES'] = '1'
    try:
        proc = subprocess.run([sys.executable, str(PROBE), str(out),
                               'selfcheck' if selfcheck else 'probe', style],
                              cwd=str(pkg), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)
    finally:
        if shim:
            shutil.rmtree(shim, ignore_errors=True)
    if proc.returncode != 0:
        raise AssertionError('probe failed in %s:\n%s' % (pkg.name, proc.stdout[-4000:]))
    with open(out) as f:
        report = json.load(f)
    report['results'] = {k: np.array(v) for k, v in report['results'].items()}
    return report


def differences(ref, got):
    """Names of the probes on which got disagrees with ref."""
    diff = []
    for name in sorted(set(ref['results']) | set(ref['errors']) | set(got['results']) | set(got['errors'])):
        a, b = ref['results'].get(name), got['results'].get(name)
        if a is None or b is None:
            # both raised: the same exception type (messages may name temporary paths)
            kinds = [r['errors'].get(name, '').split(':')[0] for r in (ref, got)]
            if (a is None) != (b is None) or kinds[0] != kinds[1]:
                diff.append(name + (' (raises %s)' % got['errors'][name] if name in got['errors'] else ''))
        elif a.shape != b.shape or not np.allclose(a, b, rtol=1e-6, atol=1e-9):
            diff.append(name)
    return diff


def verdict(bug, diff):
    """(ok, text): whether the probes' differences agree with the variant's claims."""
    free = set(bug.get('differs_only_on', ()))
    names = {d.split(' ')[0] for d in diff}
    if not bug['equivalent']:
        return bool(diff), 'differs on ' + ', '.join(diff) if diff else 'equivalent'
    if free:
        ok = names == free
        return ok, 'differs only on ' + ', '.join(sorted(names)) if names else 'equivalent'
    return not diff, 'differs on ' + ', '.join(diff) if diff else 'equivalent'


def main(argv):
    verbose = '-v' in argv
    bases, bugs = load_corpus()
    failures = []
    with tempfile.TemporaryDirectory(prefix='course_corpus_') as tmp:
        tmp = Path(tmp)
        refs = {}
        for name, spec in bases.items():
            build(tmp / name, spec['path'])
            # A base that is graded (it declares `expect`) is proved right too.
            refs[name] = run_probe(tmp / name, spec['style'], selfcheck=spec['expect'] is not None)
            print('%s: %d checks passed, %d probes recorded' % (
                name, len(refs[name]['checks']), len(refs[name]['results'])))
            if verbose:
                for check in refs[name]['checks']:
                    print('    ok  ' + check)

        for bug in bugs:
            dest = tmp / ('bug_' + bug['id'])
            base = bases[bug['base']]
            try:
                build(dest, base['path'], bug['edits'])
            except AssertionError as exc:
                failures.append('%s: %s' % (bug['id'], exc))
                print('FAIL  %s: edit does not apply' % bug['id'])
                continue
            mnist = bug.get('sizes') == 'mnist'
            key = bug['base'] + ('.mnist' if mnist else '')
            if key not in refs:
                refs[key] = run_probe(tmp / bug['base'], base['style'], selfcheck=False, mnist_sizes=True)
            got = run_probe(dest, base['style'], selfcheck=False, mnist_sizes=mnist)
            ok, text = verdict(bug, differences(refs[key], got))
            print('%s  %-36s %d edit(s) to %s; %s' % (
                'ok  ' if ok else 'FAIL', bug['id'], len(bug['edits']), bug['base'],
                text if (verbose or not ok or bug.get('differs_only_on')) else text.split(' on ')[0]))
            if not ok:
                failures.append('%s: marked equivalent=%s%s but %s' % (
                    bug['id'], bug['equivalent'],
                    ' (differs only on %s)' % bug['differs_only_on'] if bug.get('differs_only_on') else '',
                    text))
    if failures:
        print('\n%d problem(s):\n  %s' % (len(failures), '\n  '.join(failures)))
        return 1
    print('all %d variants behave as bugs.yaml says' % len(bugs))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
