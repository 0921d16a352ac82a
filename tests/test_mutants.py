"""`autograder mutants`: the mutants stay in the solution regions, keep their ids, and the
quick sample's verdicts (which hidden tests kill each mutant) hold."""
import json
import os
import sys
from html.parser import HTMLParser

import pytest

from autograder.authoring import mutants, mutate
from autograder.authoring.stubs import solution_regions
from helpers import KIT, SOLUTIONS, run

# Each quick mutant: (its verdict, the hidden tests that lose points, whether a
# visible test fails). One defect costs one test: every killed mutant here
# loses exactly the test of what it breaks.
EXPECTED = {
    'models/two_layer_nn.py:TwoLayerNet.forward:accumulate:7f895d00':
        ('killed', ['two_layer.gradients'], True),
    'models/two_layer_nn.py:TwoLayerNet.forward:skip:324c544d':
        ('killed', ['two_layer.gradients'], True),
    'models/softmax_regression.py:SoftmaxRegression.forward:skip:0cbbb760':
        ('killed', ['softmax_regression.gradients'], True),
    'models/_base_network.py:_baseNetwork.softmax:drop_term:762cddd2':
        ('killed', ['softmax.stability'], True),
    'models/two_layer_nn.py:TwoLayerNet.forward:rebind:43fefc9f':
        ('equivalent', [], False),
    'optimizer/_base_optimizer.py:_BaseOptimizer.apply_regularization:condition:a7268e70':
        ('killed', ['regularization'], True),
    'optimizer/sgd.py:SGD.update:skip:f07bcb08':
        ('killed', ['sgd.step'], True),
    'utils.py:load_mnist_trainval:off_by_one:9d9398ba':
        ('killed', ['data.split'], True),
    'utils.py:generate_batched_data:off_by_one:e838b988':
        ('killed', ['batching.partial_batch'], False),
    'utils.py:plot_curves:skip:b23080d7':
        ('killed', ['plot_curves'], True),
}


@pytest.fixture(scope='module')
def generated():
    return mutate.generate(SOLUTIONS)


def test_every_mutant_changes_one_statement_inside_a_solution_region(generated):
    assert len(generated) > 150
    by_file = {}
    for m in generated:
        by_file.setdefault(m.file, []).append(m)
    assert set(by_file) == {'models/_base_network.py', 'models/softmax_regression.py',
                            'models/two_layer_nn.py', 'optimizer/_base_optimizer.py',
                            'optimizer/sgd.py', 'utils.py'}
    for rel, found in by_file.items():
        text = (SOLUTIONS / rel).read_text()
        inside = {i for b, e in solution_regions(text) for i in range(b + 1, e)}
        lines = text.splitlines()
        for m in found:
            assert m.operator in mutate.OPERATORS
            compile(m.source, rel, 'exec')
            new = m.source.splitlines()
            # Lines before and after the change are the reference's; what
            # differs lies within a region.
            head = next(i for i, (a, b) in enumerate(zip(lines + [None], new + [None]))
                        if a != b)
            tail = next(i for i, (a, b) in enumerate(zip(lines[::-1] + [None],
                                                         new[::-1] + [None])) if a != b)
            assert set(range(head, len(lines) - tail)) <= inside, m.id
    assert len({m.id for m in generated}) == len(generated)
    assert len({m.source for m in generated}) == len(generated)


def test_ids_are_stable_and_do_not_depend_on_line_numbers(generated, tmp_path):
    assert [m.id for m in mutate.generate(SOLUTIONS)] == [m.id for m in generated]
    # Three lines added above every region: same ids, lines moved by three.
    text = (SOLUTIONS / 'optimizer' / 'sgd.py').read_text()
    moved = mutate.mutants_of_file('# one\n# two\n# three\n' + text, 'optimizer/sgd.py')
    here = [m for m in generated if m.file == 'optimizer/sgd.py']
    assert [m.id for m in moved] == [m.id for m in here]
    assert [m.line for m in moved] == [m.line + 3 for m in here]


def test_the_operators_the_issue_names_are_generated(generated):
    changes = {(m.operator, m.original, m.mutated) for m in generated}
    for expected in [
        ('accumulate', "self.gradients['W1'] = X.T @ dZ1", "self.gradients['W1'] += X.T @ dZ1"),
        ('skip', 'dZ2 /= n', 'pass'),
        ('drop_term', 'prob = np.exp(scores - scores.max(axis=1, keepdims=True))',
         'prob = np.exp(scores)'),
        ('axis', "self.gradients['b2'] = dZ2.sum(axis=0)", "self.gradients['b2'] = dZ2.sum()"),
        ('keepdims', 'prob /= prob.sum(axis=1, keepdims=True)', 'prob /= prob.sum(axis=1)'),
        ('transpose', 'dZ1 = dZ2 @ W2.T', 'dZ1 = dZ2 @ W2'),
        ('condition', "name.startswith('W')", 'True'),
        ('skip', 'weight -= self.learning_rate * model.gradients[name]', 'pass'),
        ('double_term', 'model.gradients[name] += self.reg * weight',
         'model.gradients[name] += 2 * (self.reg * weight)'),
    ]:
        assert expected in changes, expected


def test_the_reviewed_equivalents_name_existing_mutants_with_reasons(generated):
    equivalents = mutants.load_equivalents()
    assert equivalents, "the reviewed list is empty"
    ids = {m.id for m in generated}
    stale = sorted(set(equivalents) - ids)
    assert not stale, f"stale entries in mutants_equivalent.yaml: {stale}"
    for reason in equivalents.values():
        assert len(reason.split()) >= 8 and reason.endswith('.'), reason


def test_a_stale_or_contradicted_equivalent_is_reported():
    entry = {'id': 'a', 'file': 'f.py', 'function': 'g', 'operator': 'skip', 'line': 1,
             'original': 'x', 'mutated': 'pass', 'status': 'killed',
             'hidden': {'killed_by': ['t'], 'tests': ['t'], 'lost': 1, 'feedback': {'t': 'no'},
                        'seconds': 1.0, 'error': None},
             'visible': {'failed': [], 'seconds': 1.0, 'error': None}, 'seconds': 1.0}
    document = mutants.summarize([entry], {'a': 'claimed.', 'gone': 'old.'}, {'a'}, 1.0, False)
    assert document['stale_equivalents'] == ['gone']
    assert any('gone' in p and 'stale' in p for p in document['problems'])
    assert any(p.startswith('a is listed as equivalent but t') for p in document['problems'])


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.classes = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.classes += [v for k, v in attrs if k == 'class']

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope='module')
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp('mutants')
    env = {'AUTOGRADER_KIT': str(KIT),
           'PYTHONPATH': os.pathsep.join(filter(None, [str(KIT), os.environ.get('PYTHONPATH')]))}
    result = run([sys.executable, '-m', 'autograder', 'mutants', '--quick', '--out', str(out)],
                 env=env, timeout=900)
    return result, out


@pytest.mark.slow
@pytest.mark.usefixtures('mnist')
def test_the_quick_sample_verdicts(quick):
    result, out = quick
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads((out / 'mutants.json').read_text())
    assert document['mode'] == 'quick'
    got = {e['id']: e for e in document['mutants']}
    assert list(got) == list(mutants.QUICK)
    assert set(EXPECTED) == set(mutants.QUICK)
    for mutant_id, (status, killers, visible) in EXPECTED.items():
        entry = got[mutant_id]
        assert (entry['status'], entry['hidden']['killed_by'], bool(entry['visible']['failed'])) \
            == (status, killers, visible), (mutant_id, entry['hidden'], entry['visible'])
        assert entry['hidden']['tests'], mutant_id  # only the affected tests ran
        for test_id in killers:  # feedback is there, and names what is wrong
            assert entry['hidden']['feedback'][test_id].strip()
    feedback = got['models/two_layer_nn.py:TwoLayerNet.forward:accumulate:7f895d00']['hidden']
    assert 'accumulates across forward() calls' in feedback['feedback']['two_layer.gradients']
    # The optimizer and utils mutants never ran model tests; the model ones trained.
    ran = {i: set(e['hidden']['tests']) for i, e in got.items()}
    assert 'accuracy.two_layer' in ran['optimizer/sgd.py:SGD.update:skip:f07bcb08']
    assert not any(t.startswith(('accuracy.', 'two_layer')) for t in
                   ran['utils.py:plot_curves:skip:b23080d7'])
    totals = document['totals']
    assert totals['mutants'] == len(EXPECTED)
    assert totals['killed'] + totals['equivalent'] + totals['survived'] + totals['error'] \
        == totals['mutants']
    assert (totals['equivalent'], totals['survived'], totals['error']) == (1, 0, 0)
    assert totals['hidden_kill_rate'] == 1.0 and totals['target_met']
    assert 0 < totals['visible_kill_rate'] < 1
    assert 'hidden tests: 9 of 9 non-equivalent mutants killed (100.0%' in result.stdout
    print(f"\nquick mutants run: {document['seconds']} s")


@pytest.mark.slow
@pytest.mark.usefixtures('mnist')
def test_the_quick_report_page(quick):
    _, out = quick
    html = (out / 'index.html').read_text()
    page = _Page()
    page.feed(html)
    text = ''.join(page.text)
    assert 'Content-Security-Policy' in html and 'figure-check' in html  # base.html's
    for mutant_id in mutants.QUICK:
        assert mutant_id in text
    classes = [c.split() for c in page.classes]
    assert sum('killed' in c for c in classes) >= 9
    assert not any('survived' in c for c in classes)
    assert 'equivalent: ' in text and 'By function' in text and 'By operator' in text
