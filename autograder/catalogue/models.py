"""Kind 'model': a model's forward and backward passes on hidden weights and data.

    kind: model
    model: TwoLayerNet
    check: gradients                # loss | gradients | large_logits
    sizes: {n: [11, 16], d: [17, 24], c: [10, 10], h: [4, 9]}
    input_scale: 1.0
    weight_scales: {W1: 0.6, b1: 0.6, W2: 0.6, b2: 0.6}
    tolerance: 1.0e-6               # relative error (the loss for 'loss', else gradients)
    helper_tests: {softmax: softmax.values, ...}
    gradients_test: two_layer.gradients   # large_logits only

forward(X, y, mode='train') is called twice, on two different batches with
the same weights, and the loss, the accuracy and every gradient are read
after each call: gradients that accumulate across calls fail. Then
forward(X1, y1, mode='valid') is called: when it changes the gradients the
'loss' test says so in a note (the course's skeleton has no mode check in
TwoLayerNet, and training is unaffected: no points are lost).

One defect costs one test:
- `helper_tests` names the test of each _baseNetwork helper the model may
  call. The model also runs with trusted versions of all of them in place
  (in the same process as the helpers' own tests, so the judge need not
  wait for their verdicts); when one of those tests failed and the model is
  right with the trusted helpers, it passes (the feedback says so). A model
  whose own helpers follow another convention still passes with its own.
- 'large_logits' feeds the model's own softmax row-shifted logits (the
  softmax test judges stability), computes the loss with a trusted
  cross_entropy_loss (a log of 0, even one that raises, is the loss tests'),
  and for a parameter whose gradient already failed `gradients_test`, only
  checks that it stays finite.
- a gradient of shape (1, H) for a bias of shape (H,) is accepted, with a
  note: the two differ only by a length-1 axis.
- a model that raises with the hidden sizes is judged at MNIST's (D = 784,
  C = 10, H = 128), with a note: np.zeros((784, 10)) is right code here.
- 'loss' judges forward(mode='valid') when forward(mode='train') raises
  (a backward pass that crashes costs the gradient tests, not the loss test).
"""
import numpy as np

from ..untrusted import printable, scrub_message
from . import schema as s
from .functions import METHODS
from .kind import BASE, MODEL_FILES, Kind, close, mismatch, squeezed
from .types import Request, Verdict

WEIGHTS = {'SoftmaxRegression': ('W1',), 'TwoLayerNet': ('W1', 'b1', 'W2', 'b2')}
# The assignment's own sizes: a model test that raises with the hidden ones is
# run again with these (code may spell them as numbers).
MNIST_SIZES = {'d': 784, 'c': 10, 'h': 128}
SIZE = s.mapping({k: s.Param(s.span(s.integer(1, 64))) for k in ('n', 'd', 'c', 'h')})


def _error_line(error):
    """An exception the backward pass raised, as feedback (message scrubbed, capped)."""
    kind = printable(str(error.get('type') or 'Exception'), limit=60, newlines=False)
    text = f"{kind}: {scrub_message(str(error.get('message') or ''))}"
    where = error.get('where') if isinstance(error.get('where'), list) else []
    frames = [printable(w, limit=120, newlines=False) for w in where[-1:] if isinstance(w, str)]
    return text + (f" (at {frames[0]})" if frames else '')


def _optional_number(value):
    return None if value is None else s.number(0)(value)


def _ids(value):
    if not isinstance(value, dict):
        raise ValueError("must map helper names to test ids")
    for key, test in value.items():
        if key not in METHODS or not isinstance(test, str):
            raise ValueError(f"{key!r}: helpers are {', '.join(METHODS)}, each naming a test")
    return dict(value)


class Model(Kind):
    name = 'model'
    reads = ('models/',)
    phase = 1
    stage = 'model tests'
    judges_errors = True
    PARAMS = {
        'model': s.Param(s.choice(*WEIGHTS), doc="SoftmaxRegression or TwoLayerNet"),
        'check': s.Param(s.choice('loss', 'gradients', 'large_logits'), doc="what is judged"),
        'sizes': s.Param(SIZE, doc="ranges of N, D, C and H"),
        'input_scale': s.Param(s.number(above=0), doc="standard deviation of X"),
        'weight_scales': s.Param(lambda v: {k: s.number(above=0)(x) for k, x in dict(v).items()},
                                 doc="standard deviation of each weight"),
        'tolerance': s.Param(s.number(0), doc="largest relative error accepted"),
        'accuracy_tolerance': s.Param(_optional_number, None, "loss: accuracy's tolerance"),
        'numeric_eps': s.Param(_optional_number, None, "gradients: central differences' step"),
        'helper_tests': s.Param(_ids, {}, "helper -> the test that judges it"),
        'gradients_test': s.Param(lambda v: v if v is None else s.text(v), None,
                                  "large_logits: the test judging the same gradients"),
    }

    def __init__(self, spec):
        super().__init__(spec)
        names = set(WEIGHTS[self.p['model']])
        if set(self.p['weight_scales']) != names:
            raise s.RubricError(f"{spec.id}: weight_scales must give {', '.join(sorted(names))}")
        if self.p['check'] == 'loss' and self.p['accuracy_tolerance'] is None:
            raise s.RubricError(f"{spec.id}: a loss check needs accuracy_tolerance")
        if self.p['check'] == 'large_logits' and not self.p['gradients_test']:
            raise s.RubricError(f"{spec.id}: a large_logits check needs gradients_test")

    def needs(self):
        return (BASE, MODEL_FILES[self.p['model']])

    def depends_on(self):
        return tuple(self.p['helper_tests'].values()) + \
            ((self.p['gradients_test'],) if self.p['gradients_test'] else ())

    # -- requests ----------------------------------------------------------------
    def _inputs(self, ctx, mnist=False):
        """(params, arrays) of the hidden request; with mnist, of the one at MNIST's sizes."""
        rng = ctx.rng(self.id, 'mnist' if mnist else '')
        sizes = {k: int(rng.integers(lo, hi + 1)) for k, (lo, hi) in self.p['sizes'].items()}
        input_scale = self.p['input_scale']
        if mnist:
            # Pre-activations of about the same size as with the hidden D.
            input_scale *= float(np.sqrt(np.mean(self.p['sizes']['d']) / MNIST_SIZES['d']))
            sizes.update(MNIST_SIZES)
        n, d, c, h = sizes['n'], sizes['d'], sizes['c'], sizes['h']
        params = {'model': self.p['model'], 'input_size': d, 'num_classes': c, 'calls': 2,
                  'shift_softmax': self.p['check'] == 'large_logits',
                  'loss_fallback': self.p['check'] == 'loss'}
        shapes = {'W1': (d, c)} if self.p['model'] == 'SoftmaxRegression' else \
            {'W1': (d, h), 'b1': (h,), 'W2': (h, c), 'b2': (c,)}
        if self.p['model'] == 'TwoLayerNet':
            params['hidden_size'] = h
        arrays = {}
        for k in (1, 2):
            arrays[f'X{k}'] = rng.normal(scale=input_scale, size=(n, d))
            arrays[f'y{k}'] = rng.integers(0, c, size=n)
        for name, shape in shapes.items():
            arrays['w:' + name] = rng.normal(scale=self.p['weight_scales'][name], size=shape)
        if self.p['check'] == 'gradients' and self.p['numeric_eps'] and not mnist:
            params['numeric_eps'] = self.p['numeric_eps']
        return params, arrays

    def failed_helpers(self, ctx):
        return sorted(h for h, test in self.p['helper_tests'].items() if ctx.failed(test))

    def requests(self, ctx):
        """The hidden request, again with trusted helpers, and last the request at
        MNIST's sizes."""
        params, arrays = self._inputs(ctx)
        out = [Request('model', dict(params, helpers=[]), arrays)]
        if self.p['helper_tests']:
            out.append(Request('model', dict(params, helpers=sorted(self.p['helper_tests'])),
                               arrays))
        params, arrays = self._inputs(ctx, mnist=True)
        # Two 784 x 128 float64 gradients of W1, and the rest.
        out.append(Request('model', dict(params, helpers=[]), arrays, answer_bytes=4 * 2**20))
        return out

    def reference_requests(self, ctx):
        requests = self.requests(ctx)
        return [requests[0], requests[-1]]

    # -- verdicts ------------------------------------------------------------------
    def check(self, got, ref, ctx):
        got, at_mnist = got[:-1], got[-1]
        verdict = self._check_hidden(got, ref[0], ctx)
        if verdict.fraction < 1 and got[0].error is not None and at_mnist.error is None:
            # Code written for MNIST's sizes (np.zeros((784, 10)), 128 hidden units)
            # raised with the hidden ones: right code for this assignment.
            mnist = self._judge(at_mnist, ref[-1], ctx, mnist=True)
            if mnist.fraction > verdict.fraction:
                sizes = ', '.join(f"{k.upper()} = {v}" for k, v in MNIST_SIZES.items())
                return Verdict(mnist.fraction,
                               f"with MNIST's sizes ({sizes}): {mnist.message} "
                               f"(note: with other sizes forward() raised {got[0].error}; "
                               f"use self.input_size, self.num_classes and self.hidden_size "
                               f"rather than fixed numbers)", mnist.facts)
        return verdict

    def _check_hidden(self, got, ref, ctx):
        helpers = self.failed_helpers(ctx)
        # The run with trusted helpers counts only when some helper's own test failed.
        usable = got[:1] + (got[1:] if helpers else [])
        judged = [self._judge(answer, ref, ctx) for answer in usable if answer.error is None]
        if not judged:
            return Verdict(0.0, got[0].error)
        own = judged[0] if got[0].error is None else None
        best = max(judged, key=lambda v: v.fraction)
        if own is not None and own.fraction >= best.fraction:
            return own
        names = ', '.join(f"{h}() (see {self.p['helper_tests'][h]})" for h in helpers)
        note = (f"with correct versions of {names} in place of yours, which fail their own "
                f"tests: ")
        return Verdict(best.fraction, note + best.message, dict(best.facts, helpers=helpers))

    def _judge(self, answer, ref, ctx, mnist=False):
        if self.p['check'] == 'loss':
            return self._loss(answer.arrays, ref.arrays, answer.meta)
        return self._gradients(answer, ref, ctx, mnist)

    def _loss(self, got, ref, meta):
        problems = []
        for k in (1, 2):
            problems.append(mismatch('loss', got.get(f'loss{k}'), ref[f'loss{k}'],
                                     self.p['tolerance']))
            problems.append(mismatch('accuracy', got.get(f'acc{k}'), ref[f'acc{k}'],
                                     self.p['accuracy_tolerance']))
        problems = list(dict.fromkeys(p for p in problems if p))
        message = '; '.join(problems) or "loss and accuracy are correct"
        if isinstance(meta.get('train_error'), dict):
            raised = _error_line(meta['train_error'])
            message += (f" (judged with mode='valid': forward(mode='train') raised {raised}; "
                        f"the gradient tests judge that)")
        changed = meta.get('valid_changed')
        if isinstance(changed, list) and changed:
            names = ', '.join(f"gradients['{str(n)[:32]}']" for n in changed[:4])
            message += (f" (note: forward(mode='valid') also changed {names}; only "
                        f"mode='train' needs the backward pass, so evaluation could skip it)")
        return Verdict(0.0 if problems else 1.0, message)

    def _gradients(self, answer, ref, ctx, mnist=False):
        got, ref_arrays = answer.arrays, ref.arrays
        names = WEIGHTS[self.p['model']]
        tol = self.p['tolerance']
        already = set()
        if self.p['check'] == 'large_logits':
            earlier = ctx.verdicts.get(self.p['gradients_test'])
            already = set(earlier.facts.get('failed', ())) if earlier else set()
        lines, failed, notes = [], [], []
        n = self._inputs(ctx, mnist)[1]['X1'].shape[0]
        for name in names:
            want1, want2 = ref_arrays[f'g1:{name}'], ref_arrays[f'g2:{name}']
            raw1, raw2 = got.get(f'g1:{name}'), got.get(f'g2:{name}')
            if raw2 is None:
                failed.append(name)
                lines.append(f"gradients['{name}'] is not set by forward(mode='train')")
                continue
            g1, g2 = squeezed(raw1, want1.shape), squeezed(raw2, want2.shape)
            if g2 is None:
                failed.append(name)
                lines.append(f"gradient of {name} has shape {raw2.shape}; it must have the "
                             f"shape of weights['{name}'], {want2.shape}")
                continue
            if raw2.shape != want2.shape:
                notes.append(f"note: the gradient of {name} has shape {raw2.shape}, "
                             f"weights['{name}'] {want2.shape}; accepted, but keep them equal")
            if name in already:
                if not np.all(np.isfinite(g2)):
                    failed.append(name)
                    lines.append(f"gradient of {name} is not finite for large logits")
                continue
            if close(g1, want1, tol) and close(g2, want2, tol):
                continue
            failed.append(name)
            lines.append(self._why(name, g1, g2, want1, want2, got.get('n:' + name), n, tol))
        passed = len(names) - len(failed)
        if not lines:
            lines = [f"gradients of {', '.join(names)} are correct"]
        return Verdict(passed / len(names), '; '.join(lines + notes), {'failed': failed})

    @staticmethod
    def _why(name, g1, g2, want1, want2, numeric, n, tol):
        """The most likely cause of a wrong gradient, in the student's terms."""
        what = f"gradient of {name}"
        if not np.all(np.isfinite(g2)):
            return f"{what} contains NaN or infinity"
        if close(g1, want1, tol) and close(g2, want1 + want2, tol):
            return (f"{what} accumulates across forward() calls: assign "
                    f"self.gradients['{name}'] = ... on every call, do not add to it")
        if close(g1, want1, tol):
            return (f"{what} is right on the first forward() call and wrong on the second: "
                    f"does forward() keep state between calls?")
        if close(g2, want2 * n, tol):
            return f"{what} is summed over the batch: average it (divide by N)"
        if close(g2, -want2, tol):
            return f"{what} has the wrong sign"
        problem = mismatch(what, g2, want2, tol) or \
            mismatch(f"{what} on the first forward() call", g1, want1, tol) or \
            f"{what} is wrong"
        if numeric is not None and close(g2, numeric, max(tol, 1e-5)):
            problem += (" (it does match central differences of your own loss: the backward "
                        "pass agrees with your forward pass, so check the forward pass, e.g. "
                        "the loss test)")
        return problem
