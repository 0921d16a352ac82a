"""Kind 'optimizer': apply_regularization, or one SGD step, on hidden weights.

    kind: optimizer
    op: update                 # or apply_regularization
    learning_rate: 0.05
    reg: [0.1, 0.5]            # the L2 strength is drawn from this range
    tolerance: 1.0e-9

The two are judged apart, so one defect costs one test: the SGD step is
compared (a) without regularization (reg = 0: every parameter moves by
-learning_rate * its gradient) and (b) with it, against the step the
optimizer's own apply_regularization implies. A wrong apply_regularization
costs only the regularization test.
"""
import numpy as np

from . import schema as s
from .kind import OPTIMIZER, Kind, close, mismatch
from .types import Request, Verdict

SHAPES = {'W1': (7, 5), 'b1': (5,), 'W2': (5, 3), 'b2': (3,)}


def _factor(step, g):
    """The c with step ~ c * g (least squares)."""
    return float(np.sum(step * g) / max(np.sum(g * g), 1e-300))


class Optimizer(Kind):
    name = 'optimizer'
    reads = ('optimizer/',)
    PARAMS = {
        'op': s.Param(s.choice('update', 'apply_regularization'), doc="the method tested"),
        'learning_rate': s.Param(s.number(above=0), doc="SGD's step size"),
        'reg': s.Param(s.span(s.number(above=0)), doc="range of the L2 strength"),
        'tolerance': s.Param(s.number(0), doc="largest relative error accepted"),
    }

    def needs(self):
        return OPTIMIZER if self.p['op'] == 'update' else OPTIMIZER[:1]

    def requests(self, ctx):
        rng = ctx.rng(self.id)
        low, high = self.p['reg']
        params = {'op': self.p['op'], 'learning_rate': self.p['learning_rate'],
                  'reg': float(rng.uniform(low, high))}
        arrays = {}
        for name, shape in SHAPES.items():
            arrays['w:' + name] = rng.normal(size=shape)
            arrays['g:' + name] = rng.normal(size=shape)
        return [Request('optimizer', params, arrays)]

    def check(self, got, ref, ctx):
        if self.p['op'] == 'apply_regularization':
            return self._regularization(got[0].arrays, ref[0].arrays, ctx)
        return self._update(got[0].arrays, ref[0].arrays, ctx)

    def _inputs(self, ctx):
        request = self.requests(ctx)[0]
        return request.arrays, request.params['reg']

    def _regularization(self, got, ref, ctx):
        arrays, reg = self._inputs(ctx)
        problems, tol = [], self.p['tolerance']
        for name in SHAPES:
            key = 'g:' + name
            problem = mismatch(f"gradient {name}", got.get(key), ref[key], tol)
            if problem is None:
                continue
            w, g = arrays['w:' + name], arrays['g:' + name]
            if name.startswith('b') and close(got.get(key), g + reg * w, tol):
                problem = f"{name} was regularized: biases are never regularized"
            elif name.startswith('W') and close(got.get(key), g, tol):
                problem = f"{name} was not regularized: add reg * {name} to its gradient"
            elif name.startswith('W') and close(got.get(key), g + 2 * reg * w, tol):
                problem = (f"{name}: added 2 * reg * {name}; the derivative of "
                           f"reg/2 * sum({name}**2) is reg * {name}")
            problems.append(problem)
        return Verdict(0.0 if problems else 1.0,
                       '; '.join(problems) or "apply_regularization is correct")

    def _update(self, got, ref, ctx):
        arrays, reg = self._inputs(ctx)
        lr, tol = self.p['learning_rate'], self.p['tolerance']
        problems = []
        for name in SHAPES:
            w, g = arrays['w:' + name], arrays['g:' + name]
            plain = got.get('plain:' + name)
            if close(plain, ref['plain:' + name], tol):
                continue
            if close(plain, w, tol):
                problems.append(f"{name} was not updated: update every parameter in "
                                f"model.weights, biases too")
            elif close(plain, w + lr * g, tol):
                problems.append(f"{name} moved along its gradient, not against it")
            elif plain is not None and plain.shape == w.shape and \
                    close(plain, w - _factor(w - plain, g) * g, tol):
                problems.append(f"{name} moved by {_factor(w - plain, g) / lr:.3g} * "
                                f"learning_rate * its gradient, not learning_rate * gradient")
            else:
                problems.append(mismatch(f"{name} after a step without regularization",
                                         plain, ref['plain:' + name], tol))
        if problems:
            return Verdict(0.0, '; '.join(problems))
        # With regularization: the step must use the regularized gradients,
        # as this optimizer's own apply_regularization computes them (judged
        # by its own test), or the reference's.
        for name in SHAPES:
            w, g = arrays['w:' + name], arrays['g:' + name]
            step = got.get('step:' + name)
            own = got.get('reg:' + name)
            if close(step, ref['step:' + name], tol):
                continue
            if own is not None and own.shape == w.shape and close(step, w - lr * own, tol):
                continue
            if close(step, w - lr * g, tol) and not close(own, g, tol):
                problems.append("update() did not apply the regularization: call "
                                "self.apply_regularization(model) before the step")
                break
            problems.append(mismatch(f"{name} after a regularized step", step,
                                     ref['step:' + name], tol))
        return Verdict(0.0 if problems else 1.0, '; '.join(problems) or "the SGD step is correct")
