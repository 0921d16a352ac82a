"""Red team: submissions that attack the judge itself, not just the sandbox.

Each case is written as a student could write it: code in their own package
that runs inside the probe's process, so it can write anything on the answer
descriptor, patch the probe, or look for data it should not have. Every case
must end with a valid results.json, the attacked test at 0 (or its honest
score), every other test unmoved, and a judge that never raised.
"""
import base64
import json
import sys
import zlib

import numpy as np
import pytest

from autograder.grading.grader import Grader
from autograder.grading.report import print_table
from grading import make_submission, output_of, quick_rubric, scores
from helpers import SOLUTIONS

pytestmark = pytest.mark.usefixtures('mnist')
BASE = 'models/_base_network.py'
UTILS = 'utils.py'


def forged_answer(builder):
    """Code that writes `builder`'s bytes as the answer frame and exits at once."""
    return ("import io, json, os, zipfile\nimport numpy as np\n"
            f"{builder}\n"
            "fd = int(os.environ['SANDBOX_PAYLOAD_FD'])\n"
            "os.write(fd, len(frame).to_bytes(8, 'little') + frame)\n"
            "os._exit(0)")


def npz_with_meta(meta_expr, arrays_expr='{}'):
    return (f"buffer = io.BytesIO()\n"
            f"arrays = {arrays_expr}\n"
            f"arrays['__meta__'] = np.frombuffer(({meta_expr}).encode(), dtype=np.uint8)\n"
            f"np.savez(buffer, **arrays)\nframe = buffer.getvalue()")


BOMB = ("buffer = io.BytesIO()\n"
        "with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as z:\n"
        "    for i in range(8):\n"
        "        header = (\"{'descr': '<f8', 'fortran_order': False, 'shape': (100663296,), }\")\n"
        "        header = header + ' ' * (63 - len(header)) + '\\n'\n"
        "        with z.open(f'm{i}.npy', 'w', force_zip64=True) as member:\n"
        "            member.write(b'\\x93NUMPY\\x01\\x00' + len(header).to_bytes(2, 'little')"
        " + header.encode())\n"
        "            member.write(b'\\0' * (1 << 20))\n"
        "frame = buffer.getvalue()")

# attack -> (attacked test, {file: [(function, code)]}, words its feedback must contain)
CASES = {
    'decompression bomb in an answer': (
        'activations.sigmoid', {BASE: [('sigmoid', forged_answer(BOMB))]}, 'larger than'),
    'member without NPY magic': (
        'activations.sigmoid',
        {BASE: [('sigmoid', forged_answer(
            "buffer = io.BytesIO()\nwith zipfile.ZipFile(buffer, 'w') as z:\n"
            "    z.writestr('out.npy', b'surprise')\nframe = buffer.getvalue()"))]},
        'not in NPY format'),
    'meta nested 100,000 deep': (
        'activations.sigmoid',
        {BASE: [('sigmoid', forged_answer(npz_with_meta("'[' * 100000 + ']' * 100000")))]},
        'nested too deeply'),
    'split answer with shapes as a list': (
        'data.split',
        {UTILS: [('load_mnist_trainval', forged_answer(npz_with_meta(
            "json.dumps({'lengths': [48000, 48000, 12000, 12000], 'widths': 'x'})")))]},
        'expected 48000'),
    'plot answer with lines as text and as 10**300': (
        'plot_curves',
        {UTILS: [('plot_curves', forged_answer(npz_with_meta(
            "json.dumps({'figures': [{'axes': [{'lines': 'many'}, {'lines': 10**300, "
            "'box': [0, 0, 1e308, 1e308]}]}], 'takes_save_path': True})")))]},
        'no panel shows'),
    'a PNG signature and a fake figure': (
        'plot_curves',
        {UTILS: [('plot_curves',
                  "class Axis:\n"
                  "    def get_xlabel(self): return 'epoch'\n"
                  "    get_ylabel = get_title = get_xlabel\n"
                  "    def get_legend(self): return True\n"
                  "    def get_lines(self): return []\n"
                  "class Fake:\n"
                  "    def get_axes(self): return [Axis(), Axis()]\n"
                  "if save_path:\n"
                  "    open(save_path, 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n')\n"
                  "return Fake()")]},
        'drew no figure'),
    'escape sequences in an error message': (
        'activations.relu',
        {BASE: [('ReLU', "raise ValueError('\\x1b[2J\\x1b[HPASS  everything  100/100\\n'"
                         " * 50)")]},
        'ValueError'),
    'patching the probe to report success': (
        'softmax.values',
        {BASE: [('softmax',
                 "import sys\nmain = sys.modules['__main__']\n"
                 "main.mismatch = lambda *a, **k: None\n"
                 "main.as_array = lambda value, what: np.full((7, 11), 1 / 11)\n"
                 "return scores")]},
        'relative error'),
}


@pytest.fixture(scope='module')
def grader(tmp_path_factory):
    with Grader(rubric_path=quick_rubric(tmp_path_factory.mktemp('rubric'), cpu=6)) as g:
        yield g


@pytest.mark.slow
@pytest.mark.parametrize('case', list(CASES))
def test_an_attack_on_the_judge_is_a_failed_test_and_nothing_else(grader, tmp_path, case,
                                                                  capsys):
    target, code, feedback = CASES[case]
    control = 'loss.cross_entropy'
    document, summary = grader.grade(make_submission(tmp_path / 'pkg', attacks=code),
                                     tmp_path / 'out', only=[target, control])
    assert summary['status'] == 'graded' and not summary.get('judge_errors')
    # Patching the probe's process also changes the submission's own later answers
    # (never another submission's); each of them is still judged against the reference.
    expected = {target: 0.0} if 'patching' in case else {target: 0.0, control: 3.0}
    assert {k: v for k, v in scores(document).items() if k in expected} == expected
    assert feedback in output_of(document, target), output_of(document, target)
    assert json.loads((tmp_path / 'out' / 'results.json').read_text()) == document
    print_table(document)
    shown = capsys.readouterr().out
    assert '\x1b' not in shown and 'Total: ' in shown


def _pretrained_softmax_weights():
    """Softmax regression weights trained on MNIST in the public pixel order (the test's own)."""
    sys.path.insert(0, str(SOLUTIONS))
    try:
        import utils
        from models import SoftmaxRegression
        from optimizer import SGD
        train_data, train_label, _, _ = utils.load_mnist_trainval()
        model, sgd = SoftmaxRegression(), SGD(learning_rate=0.1, reg=0.001)
        batches = utils.generate_batched_data(train_data, train_label, 64, shuffle=True, seed=1)
        utils.train(1, *batches, model, sgd, debug=False)
        return np.asarray(model.weights['W1'], dtype=np.float16)
    finally:
        sys.path.remove(str(SOLUTIONS))


def _assert_softmax_accuracy_is_zero(grader, tmp_path, forward_code):
    """SoftmaxRegression.forward begun with forward_code scores nothing on accuracy."""
    folder = make_submission(tmp_path / 'pkg', attacks={
        'models/softmax_regression.py': [('forward', forward_code)]})
    document, _ = grader.grade(folder, tmp_path / 'out', only=['accuracy.softmax_regression'])
    assert scores(document)['accuracy.softmax_regression'] == 0.0
    (board,) = document['leaderboard']
    assert board['value'] < 0.3, output_of(document, 'accuracy.softmax_regression')


def test_pretrained_weights_riding_along_learn_nothing_on_the_judges_pixels(grader, tmp_path):
    """Weights shipped in the code (small enough for the size limit) and put in place of
    training: the sandbox trains on a secretly transformed split, so they score nothing."""
    weights = _pretrained_softmax_weights()
    blob = base64.b85encode(zlib.compress(weights.tobytes(), 9)).decode()
    assert len(blob) < 60_000
    code = ("if not hasattr(type(self), 'pretrained'):\n"
            "    import base64, zlib\n"
            f"    raw = zlib.decompress(base64.b85decode({blob!r}))\n"
            "    type(self).pretrained = np.frombuffer(raw, np.float16).reshape(784, 10)\n"
            "self.weights['W1'] = type(self).pretrained.astype(np.float32)")
    _assert_softmax_accuracy_is_zero(grader, tmp_path, code)


def test_looking_for_the_test_images_finds_none(grader, tmp_path):
    """A lookup table needs the test images: they never enter the sandbox."""
    code = ("import os\nfound = []\n"
            "for top in ('/', os.getcwd(), os.environ.get('PROBE_TRAIN_DIR', '/')):\n"
            "    for root, dirs, files in os.walk(top):\n"
            "        dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'usr', 'lib')]\n"
            "        found += [f for f in files if 't10k' in f or 'test' in f.lower() and "
            "f.endswith(('.npy', '.gz', '.csv'))]\n"
            "raise RuntimeError('found ' + str(sorted(set(found))))")
    folder = make_submission(tmp_path / 'pkg', attacks={BASE: [('ReLU', code)]})
    document, _ = grader.grade(folder, tmp_path / 'out', only=['activations.relu'])
    text = output_of(document, 'activations.relu')
    assert 'found [' in text
    assert 't10k' not in text and 'test_images' not in text and 'test_label' not in text


@pytest.mark.slow
def test_pretrained_weights_cannot_find_their_pixels_from_column_statistics(grader, tmp_path):
    """MNIST is public: code that ships each pixel's sum over the training split (3 KB)
    recovered a secret pixel permutation exactly (713 of the 716 non-blank pixels have a
    distinct sum) and put pretrained weights in its place, 8/8 without training. The
    sandbox's split is transformed and row-shuffled instead: no column is a pixel."""
    weights = _pretrained_softmax_weights()
    sys.path.insert(0, str(SOLUTIONS))
    try:
        import utils
        train_data = utils.load_mnist_trainval()[0]
    finally:
        sys.path.remove(str(SOLUTIONS))
    sums = np.rint(train_data.astype(np.float64) * 255).astype(np.int64).sum(axis=0)
    pack = (lambda a: base64.b85encode(zlib.compress(a.tobytes(), 9)).decode())
    code = ("if not hasattr(type(self), 'pretrained'):\n"
            "    import base64, os, zlib\n"
            "    unpack = lambda blob, t: np.frombuffer(zlib.decompress(base64.b85decode(blob)), t)\n"
            f"    W = unpack({pack(weights)!r}, np.float16).reshape(784, 10)\n"
            f"    sums = unpack({pack(sums.astype(np.int32))!r}, np.int32)\n"
            "    images = np.load(os.path.join(os.environ['PROBE_TRAIN_DIR'], 'images.npy'),\n"
            "                     mmap_mode='r')\n"
            "    mine = np.rint(np.asarray(images, np.float64) * 255).astype(np.int64).sum(0)\n"
            "    where = {}\n"
            "    for p, v in enumerate(sums):\n"
            "        where.setdefault(int(v), []).append(p)\n"
            "    ordered = np.zeros((784, 10), np.float32)\n"
            "    for j, v in enumerate(mine):\n"
            "        if where.get(int(v)):\n"
            "            ordered[j] = W[where[int(v)].pop()]\n"
            "    type(self).pretrained = ordered\n"
            "self.weights['W1'] = type(self).pretrained.copy()\n"
            "self.gradients['W1'] = np.zeros((784, 10))\n"
            "return 0.0, 0.0")
    _assert_softmax_accuracy_is_zero(grader, tmp_path, code)
