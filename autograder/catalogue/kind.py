"""What every kind of hidden test is, and the comparisons they share.

A kind (a subclass of Kind) turns one rubric entry into probe requests and
judges the answers. Its class attributes say how the judge schedules it:

    name            the rubric's `kind:`
    PARAMS          its parameters (schema.Param), checked when the rubric loads
    phase           1 unit and model tests (their requests depend on no
                    verdict; their checks may read earlier ones, see
                    depends_on), 2 trained accuracy (its requests follow
                    phase 1's verdicts)
    uses_reference  whether the judge runs the reference solution on the same
                    requests and passes its answers to check()
    stage           the row of the timing breakdown it counts in
    data            which data the sandbox needs: None, 'public' (the MNIST
                    training files as .gz and .csv) or 'train' (the judge's
                    rotated, row-shuffled training split); every student run gets
                    matplotlib's prebuilt font cache
    judges_errors   check() gets answers that failed too (a test that runs
                    several variants and passes if one works); otherwise any
                    failed answer fails the test with its reason
    reads           the package's files (or folders, ending in /) whose content can
                    change the test's outcome: importing models._base_network runs
                    models/__init__.py, which imports every model, so a model file
                    is read by every test of models/

Feedback names what is wrong (the function, the parameter, the worst entry
and its relative error) but never a hidden input or an expected value.
"""
import numpy as np

from .. import paths
from .types import Verdict

BASE = 'models/_base_network.py'
MODEL_FILES = {'SoftmaxRegression': 'models/softmax_regression.py',
               'TwoLayerNet': 'models/two_layer_nn.py'}
OPTIMIZER = ('optimizer/_base_optimizer.py', 'optimizer/sgd.py')
UTILS = 'utils.py'


class Kind:
    name = ''
    PARAMS = {}
    phase = 1
    uses_reference = True
    stage = 'function tests'
    data = None
    judges_errors = False
    reads = ()

    def __init__(self, spec):
        self.spec = spec
        self.p = spec.params

    @property
    def id(self):
        return self.spec.id

    def needs(self):
        """Files of the package this test exercises (a missing one scores 0 with a note)."""
        return ()

    def affected_by(self, files):
        """True when editing any of `files` (relative paths) can change this test's outcome."""
        return any(f == r or (r.endswith('/') and f.startswith(r)) for f in files
                   for r in self.reads)

    def depends_on(self):
        """Ids of tests whose verdicts this one reads (they are judged first)."""
        return ()

    def requests(self, ctx):
        """The probe requests of this test for one submission (Context ctx)."""
        raise NotImplementedError

    def reference_requests(self, ctx):
        """What the reference solution answers (those of uses_reference kinds)."""
        return self.requests(ctx)

    def check(self, got, ref, ctx):
        """The Verdict on the student's answers `got` (and the reference's `ref`)."""
        raise NotImplementedError


def _metric():
    return paths.solution_module('gradcheck')


def squeezed(got, want_shape):
    """`got` reshaped to want_shape when only length-1 axes differ, else None."""
    if got is None or got.shape == tuple(want_shape):
        return got
    if got.size == int(np.prod(want_shape)) and \
            tuple(d for d in got.shape if d != 1) == tuple(d for d in want_shape if d != 1):
        return got.reshape(want_shape)
    return None


def mismatch(name, got, want, tolerance):
    """Why `got` is not `want` within a relative tolerance, or None if it is.

    The error is gradcheck's: max|got - want| / (max|got| + max|want|), one
    number for the whole array (solutions/gradcheck.py, the metric students
    use too).
    """
    if got is None:
        return f"{name}: not returned"
    if got.shape != want.shape:
        return f"{name}: has shape {got.shape}, expected {want.shape}"
    if not np.all(np.isfinite(got)):
        return f"{name}: contains NaN or infinity"
    report = _metric().compare(name, got, want)
    if report.rel_error > tolerance:
        where = f" (worst entry {report.worst_index})" if got.ndim else ""
        return f"{name}: relative error {report.rel_error:.2e}{where}"
    return None


def relative_error(got, want):
    """gradcheck's relative error of got against want (arrays of one shape): a number."""
    return float(_metric().compare('', got, want).rel_error)


def close(got, want, tolerance):
    """True when got matches want in shape and within the relative tolerance."""
    return got is not None and mismatch('', got, want, tolerance) is None


def all_or_nothing(problems, success):
    """A Verdict of 1 with `success`, or 0 with the problems joined."""
    problems = [p for p in problems if p]
    return Verdict(0.0 if problems else 1.0, '; '.join(problems) or success)
