"""Kinds 'function' and 'loss_at_zero': one method of _baseNetwork on hidden inputs.

    kind: function
    method: softmax               # a method of _baseNetwork
    inputs: {recipe: logits, shape: [6, 8], scale: 3.0, extreme: 1.0e+4}
    tolerance: 1.0e-7             # largest relative error accepted
    helpers: [sigmoid]            # methods it may call: also judged with trusted ones
    warnings_note: false          # true: warnings the call issues are named in the feedback
    at_zero: [0, 1]               # where the input is exactly 0, any value in this range is
                                  # right (a convention no scaffold fixes: ReLU_dev(0))

Input recipes (the arrays are drawn per submission, see types.Context.rng):
    normal          x of `shape`, N(0, scale^2), the first entries replaced by `values`
    logits          scores of `shape`, N(0, scale^2), with rows shifted by +extreme and
                    -extreme, one entry at +extreme and one row scaled by extreme / 25
    probabilities   prob (n, c) rows on the simplex, the true class y's probability at
                    least min_true (so an epsilon of up to 1e-7 in a log changes the
                    loss by less than the tolerance), and y (n,)
    zero_true       the same with the true class's probability exactly 0 in every row
"""
import numpy as np

from . import schema as s
from .kind import BASE, Kind, mismatch
from .types import Request, Verdict

METHODS = ('sigmoid', 'sigmoid_dev', 'ReLU', 'ReLU_dev', 'softmax', 'cross_entropy_loss',
           'compute_accuracy')
RECIPES = {
    'normal': {'shape': s.Param(s.listing(s.integer(1, 64), 1)),
               'scale': s.Param(s.number(above=0)),
               'values': s.Param(s.listing(s.number()), ())},
    'logits': {'shape': s.Param(s.listing(s.integer(4, 64), 2)),
               'scale': s.Param(s.number(above=0)),
               'extreme': s.Param(s.number(above=0))},
    'probabilities': {'n': s.Param(s.integer(2, 256)), 'c': s.Param(s.integer(2, 64)),
                      'min_true': s.Param(s.number(0, 0.5), 0.05),
                      'mixed': s.Param(s.boolean, False)},
    'zero_true': {'n': s.Param(s.integer(1, 256)), 'c': s.Param(s.integer(2, 64))},
}


def _recipe(value):
    if not isinstance(value, dict) or value.get('recipe') not in RECIPES:
        raise ValueError(f"must be a mapping with recipe: one of {', '.join(RECIPES)}")
    rest = {k: v for k, v in value.items() if k != 'recipe'}
    return {'recipe': value['recipe'], **s.parse(rest, RECIPES[value['recipe']],
                                                  f"recipe {value['recipe']}")}


def _on_simplex(rng, n, c, min_true, zero_true=False):
    y = rng.integers(0, c, size=n)
    prob = rng.dirichlet(np.ones(c), size=n)
    if zero_true:
        prob[np.arange(n), y] = 0.0
    else:
        # Give the true class at least min_true, keeping each row a distribution.
        short = np.maximum(min_true - prob[np.arange(n), y], 0.0)
        prob *= (1 - short)[:, None]
        prob[np.arange(n), y] += short
    return prob / prob.sum(axis=1, keepdims=True), y


def _right_in_some_rows(rng, prob, y):
    """Make the true class the argmax of k rows, k drawn from 1..N-1, and of no other row.

    prob: (N, C) float64, rows on the simplex, changed in place (entries swapped
    within a row, so rows stay distributions); y: (N,) int. With 0 < k < N the
    accuracy k/N differs from the count k and the percentage 100 k/N, whatever
    the draw (chance-level rows alone give 0 hits in 28% of 12-row draws, and
    then a count passes as a fraction).
    """
    n = len(y)
    rows = np.arange(n)
    right = np.zeros(n, dtype=bool)
    right[rng.permutation(n)[:int(rng.integers(1, n))]] = True
    top = prob.argmax(axis=1)
    # the top entry goes to y's place where y must win; where y must lose and is on top,
    # y trades places with the second largest (a tie at the top counts as a loss).
    order = np.argsort(prob, axis=1)
    other = np.where(right, top, np.where(top == y, order[:, -2], y))
    picked = prob[rows, y].copy()
    prob[rows, y] = prob[rows, other]
    prob[rows, other] = picked


def make_inputs(recipe, rng):
    """{argument name: array} for one call, in the method's argument order."""
    kind = recipe['recipe']
    if kind == 'normal':
        x = rng.normal(scale=recipe['scale'], size=recipe['shape'])
        x.flat[:len(recipe['values'])] = recipe['values']
        return {'x': x}
    if kind == 'logits':
        scores = rng.normal(scale=recipe['scale'], size=recipe['shape'])
        big = recipe['extreme']
        scores[0] += big
        scores[1] -= big
        scores[2, int(rng.integers(scores.shape[1]))] = big
        scores[3] *= big / 25
        return {'scores': scores}
    if kind == 'probabilities':
        prob, y = _on_simplex(rng, recipe['n'], recipe['c'], recipe['min_true'])
        if recipe['mixed']:
            _right_in_some_rows(rng, prob, y)
        return {'prob': prob, 'y': y}
    prob, y = _on_simplex(rng, recipe['n'], recipe['c'], 0.0, zero_true=True)
    return {'prob': prob, 'y': y}


def _hint(method, got, want, inputs, tolerance):
    """The likely cause of a wrong result, for the feedback (or None)."""
    if got is None or not np.all(np.isfinite(got)):
        return None
    if got.shape != want.shape:
        return None

    def near(value):
        return mismatch('', got, np.asarray(value, dtype=np.float64), max(tolerance, 1e-9)) is None

    x = inputs.get('x')
    if x is not None and np.shape(x) != got.shape:
        x = None  # the inputs of another request: no elementwise hint
    if method in ('compute_accuracy', 'cross_entropy_loss'):
        n = len(inputs['y'])
        what = "the number of correct predictions" if method == 'compute_accuracy' else \
            "the sum of the losses"
        if near(want * n):
            return f"it returns {what} over the batch, not the mean (divide by N)"
        if near(want * 100):
            return "it returns a percentage; return a fraction"
    if method == 'ReLU' and x is not None:
        if near(np.where(x == 0, got, want)):
            return "it is wrong only where X == 0 (ReLU(0) is 0)"
    if method == 'sigmoid_dev' and x is not None and near(x * (1 - x)):
        return ("it computes x * (1 - x): sigmoid_dev receives the sigmoid's input x, so "
                "take s = sigmoid(x) first")
    if method == 'softmax' and got.ndim == 2 and np.allclose(got.sum(axis=0), 1) and \
            not np.allclose(got.sum(axis=1), 1):
        return "its columns sum to 1, not its rows: normalise each row (axis=1)"
    return None


class Function(Kind):
    """A method of _baseNetwork compared with the reference's on hidden inputs."""
    name = 'function'
    reads = ('models/',)
    judges_errors = True
    PARAMS = {
        'method': s.Param(s.choice(*METHODS), doc="the _baseNetwork method"),
        'inputs': s.Param(_recipe, doc="how the hidden inputs are drawn"),
        'tolerance': s.Param(s.number(0), doc="largest relative error accepted"),
        'helpers': s.Param(s.listing(s.choice(*METHODS)), (),
                           "methods it may call; when the answer is wrong it is judged "
                           "again with trusted versions of them (one defect, one test)"),
        'warnings_note': s.Param(s.boolean, False,
                                 "whether the feedback names warnings the call issues (a "
                                 "note, never a lost point: right values are right)"),
        'at_zero': s.Param(lambda v: v if v is None else s.listing(s.number(), 2)(v), None,
                           "[lo, hi]: where the input is exactly 0 any value in it is right "
                           "(a convention no scaffold fixes)"),
    }

    def needs(self):
        return (BASE,)

    def requests(self, ctx):
        arrays = make_inputs(self.p['inputs'], ctx.rng(self.id))
        params = {'method': self.p['method'], 'args': list(arrays)}
        out = [Request('call', dict(params, helpers=[]), arrays)]
        if self.p['helpers']:
            out.append(Request('call', dict(params, helpers=list(self.p['helpers'])), arrays))
        return out

    def reference_requests(self, ctx):
        return self.requests(ctx)[:1]

    def _problem(self, answer, ref, ctx):
        if answer.error is not None:
            return str(answer.error)
        got, want = answer.arrays.get('out'), ref[0].arrays['out']
        if self.p['at_zero'] is not None and got is not None and got.shape == want.shape:
            x = np.asarray(self.requests(ctx)[0].arrays.get('x'))
            if x.shape == want.shape:
                lo, hi = self.p['at_zero']
                free = (x == 0) & (got >= lo) & (got <= hi)
                got = np.where(free, want, got)
        return mismatch(f"{self.p['method']}()", got, want, self.p['tolerance'])

    def check(self, got, ref, ctx):
        method = self.p['method']
        problem = self._problem(got[0], ref, ctx)
        if problem and len(got) > 1 and not self._problem(got[1], ref, ctx):
            # Right once the helpers it calls are right: their own tests say
            # what is wrong with them, this one keeps its points.
            names = ', '.join(f"{h}()" for h in self.p['helpers'])
            return Verdict(1.0, f"{method}() is correct with a correct {names} in place of "
                                f"yours (see that test)")
        if problem and got[0].error is None:
            try:
                hint = _hint(method, got[0].arrays.get('out'), ref[0].arrays['out'],
                             self.requests(ctx)[0].arrays, self.p['tolerance'])
            except (ValueError, TypeError, ArithmeticError):
                hint = None  # a hint is a nicety: a hostile answer never breaks the verdict
            if hint:
                problem += f": {hint}"
        message = problem or f"{method}() is correct"
        warned = got[0].meta.get('warnings')
        if not problem and self.p['warnings_note'] and isinstance(warned, list) and warned:
            # 1 / (1 + np.exp(-x)) is right and warns at x = -800: the course's
            # own skeleton allows it, so the warning is feedback, not a defect.
            message += (f" (note: it warns on these inputs, {str(warned[0])[:200]}; "
                        f"training would print that warning again and again: an overflow "
                        f"can be avoided or silenced with np.errstate)")
        return Verdict(0.0 if problem else 1.0, message)


class LossAtZero(Kind):
    """cross_entropy_loss when the true class has probability exactly 0.

    The loss must be finite and at least min_loss (-log of the largest
    probability a clip may put in place of 0; 13.8 = -log 1e-6), so clipping
    at 1e-15 or adding 1e-9 both pass, and so does np.finfo(float).tiny.
    """
    name = 'loss_at_zero'
    reads = ('models/',)
    uses_reference = False
    PARAMS = {
        'inputs': s.Param(_recipe, doc="a zero_true recipe"),
        'min_loss': s.Param(s.number(above=0), doc="the smallest loss accepted"),
    }

    def needs(self):
        return (BASE,)

    def requests(self, ctx):
        arrays = make_inputs(self.p['inputs'], ctx.rng(self.id))
        return [Request('call', {'method': 'cross_entropy_loss', 'args': list(arrays)}, arrays)]

    def check(self, got, ref, ctx):
        out = got[0].arrays.get('out')
        floor = self.p['min_loss']
        if out is None or out.size != 1:
            return Verdict(0.0, "cross_entropy_loss() must return one number")
        value = float(out.reshape(()))
        if not np.isfinite(value):
            return Verdict(0.0, "cross_entropy_loss() is not finite when the true class has "
                                "probability 0: log(0) is -inf; keep the probabilities away "
                                "from 0 before taking the log")
        if value < floor:
            return Verdict(0.0, f"cross_entropy_loss() gives {value:.3g} when the true class "
                                f"has probability 0; a probability of 0 must cost at least "
                                f"{floor:g} (clip at a tiny value such as 1e-12, not a large "
                                f"one)")
        return Verdict(1.0, "cross_entropy_loss() stays finite when the true class has "
                            "probability 0")
