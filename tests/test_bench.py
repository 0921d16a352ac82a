"""The benchmark suite (`python -m bench`): its quick mode end to end.

Only the shape of the outputs is checked: the rows every section must report,
positive numbers and ratios, the Markdown table. No timing is asserted: the
numbers depend on the machine and on whatever else it is running.
"""
import importlib.util
import json
import math
import os
import sys

import pytest

from helpers import KIT, run

TORCH = importlib.util.find_spec('torch') is not None
GRADESCOPE = (
    'reference graded in the Gradescope simulation vs unconstrained',
    "reference in the Gradescope simulation vs Gradescope's 10-minute timeout",
    'reference score in the Gradescope simulation',
    'broken submission score in the Gradescope simulation',
    'broken submission graded in the Gradescope simulation vs the reference',
    'peak memory in the Gradescope simulation',
    'peak memory in the Gradescope simulation, first grading in an empty cache')
STAGES = ('intake', 'workspace', 'data preparation', 'function tests', 'model tests',
          'accuracy training', 'report')
EXPECTED = [
    ('data', 'first load, train+test (kit loader)'),
    ('data', 'cached load, train+test (kit loader)'),
    ('training', 'TwoLayerNet epoch, numpy solutions (1 BLAS thread)'),
    ('training', 'SoftmaxRegression epoch, numpy solutions (1 BLAS thread)'),
    ('training', 'TwoLayerNet epoch vs its matrix products alone (1 BLAS thread)'),
    ('training', 'TwoLayerNet epoch, achieved matmul GFLOP/s (1 BLAS thread)'),
    ('training', 'SoftmaxRegression epoch vs its matrix products alone (1 BLAS thread)'),
    ('training', 'SoftmaxRegression epoch, achieved matmul GFLOP/s (1 BLAS thread)'),
    ('training', 'sgemm peak (1024x1024, 1 BLAS thread)'),
    ('contention', 'TwoLayerNet epoch, idle machine, 2 BLAS threads vs 1'),
    ('contention', 'TwoLayerNet epoch beside 4 CPU-bound processes, 1 BLAS thread, '
                   'vs its fair share'),
    ('contention', 'TwoLayerNet epoch beside 4 CPU-bound processes, 2 BLAS threads, '
                   'vs the fair share of 1'),
    ('contention', 'TwoLayerNet epoch beside 4 CPU-bound processes, 2 BLAS threads vs 1'),
    ('contention', 'one submission graded beside 4 CPU-bound processes vs its fair share'),
    ('contention', 'reference score, idle and beside 4 CPU-bound processes'),
    ('grading', 'one submission, total'),
    *[('grading', f'one submission, stage: {stage}') for stage in STAGES],
    ('grading', 'batch -j 1, submissions per minute'),
    ('grading', 'batch -j 2, submissions per minute'),
    ('grading', 'batch -j 1, 2 BLAS threads vs 1, submissions per minute'),
    ('class', 'course-style class, seconds per submission at -j 2'),
    ('class', 'course-style class vs reference class, per submission at -j 2'),
    ('class', 'course class, cores kept busy at -j 1'),
    ('class', 'course class, -j 2 vs -j 1 (submissions per minute)'),
    ('class', 'course class, -j 2 vs -j 1 between the first and the last result '
              '(submissions per minute)'),
    ('class', 'reference class, cores kept busy at -j 1'),
    ('class', 'reference class, -j 2 vs -j 1 (submissions per minute)'),
    ('class', 'reference class, -j 2 vs -j 1 between the first and the last result '
              '(submissions per minute)'),
    *[('class', f'stage {stage}, seconds per submission (-j 2)')
      for stage in ('total', *STAGES)],
    *[('gradescope', name) for name in GRADESCOPE],
    ('memory', 'training run peak RSS (train.py config_twolayer, 1 epoch)'),
    ('memory', 'grading worker peak RSS (batch -j 2)'),
] + ([('memory', f'{m} training worker peak RSS, numpy vs PyTorch')
      for m in ('TwoLayerNet', 'SoftmaxRegression')] if TORCH else []) + [
    ('similarity', name) for name in (
        '80 submissions compared', '80 submissions compared, per pair',
        '80 submissions against an archive of 80',
        'peak memory, 80 submissions against an archive of 80')]
# Rows that may be skipped, and the word their note must contain.
MAY_SKIP = {
    'TwoLayerNet epoch, numpy solutions (1 BLAS thread)': 'PyTorch',
    'SoftmaxRegression epoch, numpy solutions (1 BLAS thread)': 'PyTorch',
    'one submission, stage: accuracy training': 'no test of this stage ran',
    'one submission, stage: data preparation': 'no test of this stage ran',
    # The Gradescope simulation needs root and writable cgroups; its first-grading row
    # is measured by a full run only.
    **{name: 'no Gradescope simulation here' for name in GRADESCOPE},
    # --quick grades a few tests: no training, and data folders built once per worker.
    **{f'stage {stage}, seconds per submission (-j 2)': 'spent time in this stage'
       for stage in ('data preparation', 'accuracy training')},
}
MAY_SKIP['peak memory in the Gradescope simulation, first grading in an empty cache'] = (
    'full run only' if os.geteuid() == 0 else 'no Gradescope simulation here')


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench-out')
    committed = KIT / 'bench' / 'RESULTS.md'
    before = committed.read_bytes() if committed.exists() else None
    result = run([sys.executable, '-m', 'bench', '--quick', '--out', str(out)], timeout=900)
    after = committed.read_bytes() if committed.exists() else None
    return result, out, before == after


@pytest.mark.slow
@pytest.mark.usefixtures('mnist')
def test_quick_run_succeeds_and_leaves_the_committed_table_alone(quick_run):
    result, out, committed_unchanged = quick_run
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert (out / 'results.json').is_file() and (out / 'results.md').is_file()
    assert committed_unchanged, "--quick must not rewrite bench/RESULTS.md"
    assert 'ratio' in result.stdout.splitlines()[0]


@pytest.mark.slow
@pytest.mark.usefixtures('mnist')
def test_results_json_has_every_row_with_positive_numbers(quick_run):
    _, out, _ = quick_run
    document = json.loads((out / 'results.json').read_text())
    assert document['quick'] is True
    assert {'cpu', 'cores', 'numpy', 'blas', 'python', 'date'} <= set(document['machine'])
    others = document['machine']['other_work_by_section']
    assert set(others) == {'data', 'training', 'contention', 'grading', 'class', 'gradescope',
                           'memory', 'similarity'}
    assert all(seconds >= 0 and 0 <= share for seconds, share in others.values()), others
    rows = {(r['section'], r['name']): r for r in document['rows']}
    assert list(rows) == EXPECTED, sorted(set(rows) ^ set(EXPECTED))
    for (section, name), entry in rows.items():
        where = f"{section}: {name}"
        if entry['status'] == 'skipped':
            assert MAY_SKIP.get(name, '\0') in entry['note'], f"{where} skipped: {entry['note']}"
            continue
        assert entry['status'] == 'ok', f"{where}: {entry['status']}: {entry['note']}"
        value, baseline = entry['value'], entry['baseline']
        assert value['n'] >= 1 and len(value['values']) == value['n'], where
        assert all(positive(v) for v in value['values']), where
        assert value['min'] <= value['median'], where
        assert baseline and positive(baseline['median']) and positive(baseline['min']), where
        assert positive(entry['ratio']) and positive(entry['ratio_min']), where
        assert entry['baseline_name'] and entry['note'], where
        if entry['target']:
            assert entry['target']['op'] in ('<=', '>=') and positive(entry['target']['value'])
            assert isinstance(entry['met'], bool), where


@pytest.mark.slow
@pytest.mark.usefixtures('mnist')
def test_results_markdown_is_one_table_row_per_result(quick_run):
    _, out, _ = quick_run
    document = json.loads((out / 'results.json').read_text())
    text = (out / 'results.md').read_text()
    assert text.startswith('# Benchmark results')
    assert '## Machine' in text and '## Notes' in text
    table = [line for line in text.splitlines() if line.startswith('|')]
    header, rule, body = table[0], table[1], table[2:]
    assert 'ratio' in header and set(rule) <= set('|-')
    assert len(body) == len(document['rows'])
    columns = header.count('|')
    for line, entry in zip(body, document['rows']):
        assert entry['name'] in line and line.count('|') - line.count('\\|') == columns


def test_help_lists_the_options():
    result = run([sys.executable, '-m', 'bench', '--help'], timeout=60)
    assert result.returncode == 0
    for option in ('--quick', '--out', '--only', '--rounds'):
        assert option in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="cgroups need root")
def test_container_holds_its_limits_and_leaves_no_group_behind():
    """bench/container.py: a CPU quota and a memory limit on everything the wrapped
    command starts; leaving the block removes the groups."""
    import subprocess
    import time

    sys.path.insert(0, str(KIT))
    from bench import container

    ok, why = container.available()
    if not ok:
        pytest.skip(why)
    spin = "import time\nend = time.time() + 2\nwhile time.time() < end: pass"
    with container.Container(cpu_cores=0.25, memory_bytes=128 * 2**20) as box:
        dirs = list(box.dirs.values())
        start = time.monotonic()
        done = subprocess.run(box.wrap([sys.executable, '-I', '-S', '-c', spin]), timeout=60)
        wall = time.monotonic() - start
        assert done.returncode == 0
        cpu = box.cpu_seconds()
        assert cpu is not None and cpu <= 0.25 * wall * 1.3 + 0.2, (cpu, wall)
        hog = subprocess.run(box.wrap([sys.executable, '-I', '-S', '-c',
                                       "x = bytearray(400 * 2**20)\nx[::4096] = b'1' * "
                                       "len(x[::4096])"]), timeout=60)
        assert hog.returncode != 0  # killed (or MemoryError) at 128 MB
        # Kernels differ in which counter moves (failcnt stays 0 on some): either does.
        assert box.peak_memory() <= 128 * 2**20 and (box.limit_hit() or box.oom_kills())
    assert not any(d.exists() for d in dirs), dirs


def test_spinners_stop_and_fair_share():
    sys.path.insert(0, str(KIT))
    from bench import core

    with core.Spinners(2) as spinners:
        pids = [p.pid for p in spinners.processes]
        assert len(pids) == 2 and all(p.poll() is None for p in spinners.processes)
    assert spinners.processes == []
    for pid in pids:
        assert not os.path.exists(f'/proc/{pid}') or 'Z' in open(f'/proc/{pid}/stat').read()
    assert core.fair_share(2.0, 4, cores=2) == pytest.approx(5.0)
    assert core.fair_share(2.0, 0, cores=2) == pytest.approx(2.0)  # never below idle
