"""Kind 'accuracy': train the student's model with a default config; the judge scores it.

    kind: accuracy
    model: TwoLayerNet
    config: config_twolayer.yaml        # in solutions/configs: the settings trained with
    seed: 0                             # the order of the training examples
    model_tests: [two_layer.loss, two_layer.gradients]   # the model's own tests: helpers
                                        # that made the first pass are used here too
    optimizer_tests: [regularization, sgd.step]   # if one failed, the kit's SGD trains
    bands:                              # credit from a minimum test accuracy down
    - {min_accuracy: 0.91, credit: 1.0}
    - {min_accuracy: 0.86, credit: 0.5}
    select_accuracy: 0.85               # optional: the training split is drawn again until
                                        # the reference reaches this (grading/data.py)
    stop_when_decided: true             # stop once the verdict is decided (below)
    match_after_batches: 75             # compare with the reference's weights this early
    calibration: {...}                  # the reference's measurements (autograder calibrate)

The sandbox trains the student's model and optimizer with the kit's own
loop, from the assignment's given initial weights (the judge draws them with
the reference's own `_weight_init`), on the secret training split: noisy
images times a secret matrix, rows in a secret order (grading/data.py). The
test images and labels never enter the sandbox. After every epoch the loop
sends the weights; the judge maps the first layer back to pixels (W1 <- A
W1') and scores them with the reference's forward pass (catalogue/reference.py).
The verdict is decided, and training stops, as soon as the weights are the
reference's at the same point (after `match_after_batches` updates of the
first epoch, or after that epoch: the same given start and the same examples
in the same order, so right code follows the reference to its accuracy, and
a right but slow forward pass costs a tenth of an epoch, not ten epochs), or
once an epoch reaches full credit; otherwise training runs every epoch of
the config and the last weights are scored.
A model that learns nothing scores nothing, whatever the submission carries.
(`stop_when_decided: false` trains every epoch; a leaderboard column shows
the accuracy of the weights that were scored.)
"""
import numpy as np

from .. import paths
from . import reference
from . import schema as s
from .kind import BASE, MODEL_FILES, Kind, relative_error, squeezed
from .models import WEIGHTS
from .types import Request, Verdict

# The judge's replies to the training loop after an epoch (probes.probe_train).
STOP, GO_ON = b's', b'c'


def _bands(value):
    bands = s.listing(s.mapping({'min_accuracy': s.Param(s.number(0, 1)),
                                 'credit': s.Param(s.number(0, 1))}), 1)(value)
    if [b['min_accuracy'] for b in bands] != sorted((b['min_accuracy'] for b in bands),
                                                    reverse=True):
        raise ValueError("must go from the highest accuracy down")
    return bands


def train_settings(model, config_name):
    """The training settings of a shipped default config (solutions/configs)."""
    config = paths.solution_module('config').load_config(
        paths.solutions_dir() / 'configs' / config_name)
    train, spec = config['Train'], config['Model']
    if spec['type'] != model:
        raise s.RubricError(f"{config_name} trains {spec['type']}, not {model}")
    return {'model': model, 'hidden_size': spec.get('hidden_size', 0),
            'batch_size': train['batch_size'], 'learning_rate': train['learning_rate'],
            'reg': train['reg'], 'epochs': train['epochs']}


class Accuracy(Kind):
    name = 'accuracy'
    reads = ('models/', 'optimizer/')
    phase = 2
    stage = 'accuracy training'
    data = 'train'
    uses_reference = False  # the judge scores the weights itself
    PARAMS = {
        'model': s.Param(s.choice(*WEIGHTS), doc="SoftmaxRegression or TwoLayerNet"),
        'config': s.Param(s.text, doc="the default config trained with"),
        'seed': s.Param(s.integer(0), doc="the order of the training examples"),
        'model_tests': s.Param(s.listing(s.text, 1), doc="the model's loss test, then its "
                                                        "gradient tests"),
        'optimizer_tests': s.Param(s.listing(s.text), doc="the optimizer's tests"),
        'bands': s.Param(_bands, doc="credit by test accuracy"),
        'select_accuracy': s.Param(lambda v: v if v is None else s.number(0, 1)(v), None,
                                   "the training split is drawn again until the reference "
                                   "reaches this test accuracy (None: any split)"),
        'stop_when_decided': s.Param(s.boolean, True,
                                     "stop training once the verdict is decided: weights "
                                     "that are the reference's after the first epoch, or the "
                                     "first epoch that earns full credit (false: always "
                                     "train every epoch of the config)"),
        'match_tolerance': s.Param(s.number(0, 0.1), 1.0e-4,
                                   "largest relative error of weights that count as the "
                                   "reference's (of their change from the given weights, "
                                   "at the checkpoint)"),
        'match_after_batches': s.Param(s.integer(0), 75,
                                       "also compare with the reference's weights after this "
                                       "many updates of the first epoch (0: only after it)"),
        'calibration': s.Param(lambda v: dict(v or {}), {}, "the reference's measurements"),
    }

    def __init__(self, spec):
        super().__init__(spec)
        self.settings = train_settings(self.p['model'], self.p['config'])

    def needs(self):
        return (BASE, MODEL_FILES[self.p['model']])

    def depends_on(self):
        return (*self.p['model_tests'], *self.p['optimizer_tests'])

    def credit_for(self, accuracy):
        for band in self.p['bands']:
            if accuracy >= band['min_accuracy']:
                return band['credit']
        return 0.0

    def train_params(self, ctx):
        """The trusted loop's parameters for this submission: the config's settings, the
        rubric's order of examples, the helpers and SGD its own tests call for."""
        model_verdict = ctx.verdicts.get(self.p['model_tests'][0])
        helpers = list(model_verdict.facts.get('helpers', ())) if model_verdict else []
        own_optimizer = not any(ctx.failed(t) for t in self.p['optimizer_tests'])
        return dict(self.settings, seed=self.p['seed'], helpers=helpers,
                    optimizer='own' if own_optimizer else 'trusted',
                    checkpoint=self.checkpoint())

    def checkpoint(self):
        """Updates of the first epoch after which the weights are compared with the
        reference's (0: none)."""
        return self.p['match_after_batches'] if self.p['stop_when_decided'] else 0

    def selection_params(self):
        """The reference's own training parameters (sorted pairs: a cache key too)."""
        return tuple(sorted(dict(self.settings, seed=self.p['seed'], helpers=[],
                                 optimizer='trusted').items()))

    def requests(self, ctx):
        given = reference.given_weights(self.p['model'], self.settings['hidden_size'])
        return [Request('train', self.train_params(ctx), {'w:' + k: v for k, v in given.items()},
                        answer_bytes=16 * 2**20)]

    def weights(self, answer, transform):
        """The trained weights in pixel coordinates (W1 <- A W1'), or (None, why not)."""
        hidden = self.settings['hidden_size']
        shapes = {'W1': (784, 10)} if self.p['model'] == 'SoftmaxRegression' else \
            {'W1': (784, hidden), 'b1': (hidden,), 'W2': (hidden, 10), 'b2': (10,)}
        weights = {}
        for name, shape in shapes.items():
            raw = answer.arrays.get('w:' + name)
            value = squeezed(raw, shape)
            if value is None:
                # No returned shape in the message: this run saw the secret split.
                shown = 'missing' if raw is None else "of another shape"
                return None, f"after training, weights['{name}'] is {shown}; expected {shape}"
            if not np.all(np.isfinite(value)):
                return None, (f"after training, weights['{name}'] holds NaN or infinity: the "
                              f"training diverged")
            weights[name] = value
        if transform is not None:
            weights['W1'] = np.asarray(transform, dtype=np.float64) @ weights['W1']
        return weights, None

    def _score(self, answer, ctx):
        """(accuracy, recall, None) of an answer's weights, or (None, None, why not)."""
        weights, problem = self.weights(answer, ctx.train_transform)
        if problem:
            return None, None, problem
        accuracy, recall = reference.score(self.p['model'], self.settings['hidden_size'], weights)
        return accuracy, recall, None

    def _as_reference(self, answer, ctx, at_checkpoint):
        """(relative error, ReferenceRun) when the weights are the reference's at the
        same point: after the first epoch, or after the checkpoint's updates of it.

        At the checkpoint the error is that of the weights' change from the given
        weights (the change is still small beside them: weights that barely
        moved must not pass for the reference's).
        """
        run = ctx.reference_runs.get(self.id)
        wanted = (run.checkpoint if at_checkpoint else run.first_epoch) if run else None
        if not wanted or not self.p['stop_when_decided']:
            return None
        given = reference.given_weights(self.p['model'], self.settings['hidden_size']) \
            if at_checkpoint else {}
        worst = 0.0
        for name, want in wanted.items():
            got = squeezed(answer.arrays.get('w:' + name), want.shape)
            if got is None or not np.all(np.isfinite(got)):
                return None
            want = np.asarray(want, dtype=np.float64)
            start = np.asarray(given.get(name, 0.0), dtype=np.float64)
            worst = max(worst, relative_error(got - start, want - start))
        return (worst, run) if worst <= self.p['match_tolerance'] else None

    def _reference_verdict(self, run):
        """(accuracy, recall, epoch): where the reference's own training is decided."""
        full = self.p['bands'][0]['credit']
        for epoch, accuracy in enumerate(run.accuracies, 1):
            if self.credit_for(accuracy) >= full:
                return accuracy, run.recalls[epoch - 1], epoch
        return run.accuracies[-1], run.recalls[-1], len(run.accuracies)

    def progress(self, answer, ctx):
        """The judge's reply to an epoch's weights: STOP once the verdict is decided.

        Decided at the checkpoint (the loop's report after
        `match_after_batches` updates of the first epoch) or after the first
        epoch when the weights are the reference's there (the same given
        start, the same examples in the same order: right code computes the
        same weights, to float rounding, about 1e-6, and trained on it would
        follow the reference to its accuracy); else at the first epoch that
        earns full credit, or at weights that are no longer finite. The
        checkpoint is only ever compared, never scored, and only the first
        `epochs` reports of a run are scored (the loop sends one per epoch;
        more would make the judge an oracle).
        """
        state = ctx.trained.setdefault(self.id, {'epochs': 0, 'decided': None, 'stop': False,
                                                 'checked': False})
        if state['stop'] or state['epochs'] >= self.settings['epochs']:
            return STOP if state['stop'] else GO_ON
        at_checkpoint = 'batches' in answer.meta
        if at_checkpoint:
            # One checkpoint, before the first epoch's report: never scored.
            if state['checked'] or state['epochs'] or answer.error is not None:
                return GO_ON
            state['checked'] = True
        else:
            state['epochs'] += 1
            if answer.error is not None:
                return GO_ON
        matched = self._as_reference(answer, ctx, at_checkpoint) \
            if at_checkpoint or state['epochs'] == 1 else None
        if matched is not None:
            where = (f"after {self.checkpoint()} updates of the first epoch" if at_checkpoint
                     else "after the first epoch")
            state['decided'] = (*self._reference_verdict(matched[1]), (where, matched[0]))
            state['stop'] = True
            return STOP
        if at_checkpoint:
            return GO_ON
        accuracy, recall, problem = self._score(answer, ctx)
        if problem is None and self.p['stop_when_decided'] and \
                self.credit_for(accuracy) >= self.p['bands'][0]['credit']:
            state['decided'] = (accuracy, recall, state['epochs'], None)
        # NaN or infinite weights never recover: that verdict is decided too,
        # on the final answer, which says why.
        state['stop'] = state['decided'] is not None or problem is not None
        return STOP if state['stop'] else GO_ON

    def check(self, got, ref, ctx):
        state = ctx.trained.get(self.id, {})
        epochs = self.settings['epochs']
        if state.get('decided'):
            accuracy, recall, epoch, matched = state['decided']
            when = f" after epoch {epoch} of {epochs} (training stopped: the verdict was decided)"
            if matched is not None:
                where, error = matched
                when = (f": {where} the weights are the reference's (relative error "
                        f"{error:.1e}), so trained on they reach what the reference's "
                        f"reach, after epoch {epoch} of {epochs}")
        else:
            if got[0].error is not None:
                return Verdict(0.0, str(got[0].error))
            accuracy, recall, problem = self._score(got[0], ctx)
            if problem:
                return Verdict(0.0, problem)
            when = f" after {epochs} epochs"
        credit = self.credit_for(accuracy)
        needed = self.p['bands'][0]['min_accuracy']
        text = f"test accuracy {accuracy:.4f}{when}; full credit from {needed:.3f}"
        dead = [str(d) for d in range(10) if recall[d] < 0.02]
        if credit < 1 and dead:
            text += f"; the model almost never predicts class {', '.join(dead)}"
        params = self.train_params(ctx)
        if params['helpers']:
            text += (f"; trained with correct versions of {', '.join(params['helpers'])}(), "
                     f"as in {self.p['model_tests'][0]}")
        failed = [t for t in self.p['model_tests'] if ctx.failed(t)]
        if credit < 1 and failed:
            text += (f"; the model fails {' and '.join(failed)}: training follows its forward "
                     f"and backward passes, so fix those first")
        if params['optimizer'] == 'trusted':
            broken = [t for t in self.p['optimizer_tests'] if ctx.failed(t)]
            text += f"; trained with the kit's SGD, since {' and '.join(broken)} failed"
        return Verdict(credit, text, {'accuracy': accuracy})
