"""Calibrate the accuracy thresholds from the reference solution.

For each accuracy test, the reference is trained through the same probe and
the same training loop the students' code goes through, once per seed (the
seed orders the training examples), and scored on the hidden-order test set.
Full credit starts a margin below the lowest accuracy seen, so a correct
submission passes whatever its floating-point path; half credit starts
further down. With --write the bands and the measurements go into the rubric.
"""
import datetime
import platform
import re

import numpy as np
import yaml

from . import paths
from .hidden_tests import AccuracyTest, Request, train_params
from .judge import run_requests
from .report import write_text
from .workspace import Inputs


def measure(grader, seeds, progress=None):
    """Test accuracy of the reference per accuracy test and seed.

    Returns:
        {test id: [accuracy per seed]}.
    """
    data_dir = grader.data.prepare()
    labels = grader.data.test_labels()
    inputs = Inputs(grader.root)
    out = {}
    for spec in grader.specs:
        test = grader.tests[spec.id]
        if not isinstance(test, AccuracyTest):
            continue
        accuracies = []
        for seed in seeds:
            request = Request('train', train_params(test.model, test.config_name, seed),
                              data=True)
            request_file = inputs.add(f'calibrate-{spec.id}-{seed}', request)
            (response,), _ = run_requests(grader.reference.sandbox, inputs.script,
                                          [request_file], paths.solutions_dir(), [3600],
                                          data_dir)
            if response.error:
                raise RuntimeError(f"the reference failed: {response.error}")
            accuracy = float(np.mean(response.arrays['predictions'] == labels))
            accuracies.append(accuracy)
            if progress:
                progress(spec.id, seed, accuracy)
        out[spec.id] = accuracies
    return out


def bands_for(accuracies, margin=0.01, half_credit_gap=0.05):
    """Full credit from (lowest - margin) rounded down to 0.005; half credit below."""
    full = np.floor((min(accuracies) - margin) / 0.005) * 0.005
    return [{'min_accuracy': round(float(full), 3), 'credit': 1.0},
            {'min_accuracy': round(float(full - half_credit_gap), 3), 'credit': 0.5}]


def calibration_block(accuracies, seeds):
    return {
        'seeds': list(seeds),
        'accuracies': [round(a, 4) for a in accuracies],
        'mean': round(float(np.mean(accuracies)), 4),
        'min': round(float(min(accuracies)), 4),
        'max': round(float(max(accuracies)), 4),
        'measured': f"{datetime.date.today().isoformat()} on {platform.machine()}, "
                    f"{platform.python_implementation()} {platform.python_version()}, "
                    f"numpy {np.__version__}",
    }


def write_rubric(path, updates):
    """Replace each updated test's bands and calibration in the rubric file.

    Only the lines of those two keys change; comments and the rest stay. The
    new text must parse to the same rubric with the new values, or nothing is
    written; the file is replaced atomically.

    Args:
        path: the rubric YAML (Path).
        updates: {test_id: (bands, calibration)}.

    Raises:
        ValueError: a test is not in the file, or the edit would not read back.
    """
    text = path.read_text()
    for test_id, (bands, calibration) in updates.items():
        block = re.search(rf'^  {re.escape(test_id)}:\n((?:    .*\n|\s*\n)*)', text, re.M)
        if block is None:
            raise ValueError(f"{path}: no entry for {test_id}")
        kept, skipping = [], False
        for line in block.group(1).splitlines(keepends=True):
            if re.match(r'    (bands|calibration):', line):
                skipping = True
                continue
            # A key's value: deeper lines, and YAML's list items at the key's own indent.
            if skipping and (line.startswith(('      ', '    - ')) or not line.strip()):
                continue
            skipping = False
            kept.append(line)
        extra = yaml.safe_dump({'bands': bands, 'calibration': calibration},
                               sort_keys=False, default_flow_style=None, width=100)
        extra = ''.join('    ' + line + '\n' for line in extra.splitlines())
        text = text[:block.start(1)] + ''.join(kept) + extra + text[block.end(1):]
    try:
        written = yaml.safe_load(text)['tests']
        for test_id, (bands, calibration) in updates.items():
            if (written[test_id]['bands'], written[test_id]['calibration']) != (bands, calibration):
                raise ValueError(f"{test_id} reads back different values")
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: the updated rubric would not read back ({err}); "
                         f"left unchanged") from None
    write_text(path, text)
