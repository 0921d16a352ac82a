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
    calibration: {...}                  # the reference's measurements (autograder calibrate)
    leaderboard: "Two-layer net test accuracy"

The sandbox trains the student's model and optimizer with the kit's own
loop on the training split, its rows in a secret order and every image
times a secret rotation (grading/data.py), and returns the trained weights
(plain arrays, shapes checked). The test images and labels never enter the
sandbox: the judge rotates the first layer's weights back to pixels and
has the reference's forward pass compute the test accuracy. A model that
learns nothing scores nothing, whatever the submission carries.
"""
import numpy as np

from . import schema as s
from .kind import BASE, MODEL_FILES, Kind, squeezed
from .models import WEIGHTS
from .types import Request, Verdict
from .. import paths


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
    phase = 3
    stage = 'accuracy training'
    data = 'train'
    PARAMS = {
        'model': s.Param(s.choice(*WEIGHTS), doc="SoftmaxRegression or TwoLayerNet"),
        'config': s.Param(s.text, doc="the default config trained with"),
        'seed': s.Param(s.integer(0), doc="the order of the training examples"),
        'model_tests': s.Param(s.listing(s.text, 1), doc="the model's loss test, then its "
                                                        "gradient tests"),
        'optimizer_tests': s.Param(s.listing(s.text), doc="the optimizer's tests"),
        'bands': s.Param(_bands, doc="credit by test accuracy"),
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

    def train_params(self, ctx, seed=None):
        model_verdict = ctx.verdicts.get(self.p['model_tests'][0])
        helpers = list(model_verdict.facts.get('helpers', ())) if model_verdict else []
        own_optimizer = not any(ctx.failed(t) for t in self.p['optimizer_tests'])
        return dict(self.settings, seed=self.p['seed'] if seed is None else seed,
                    helpers=helpers, optimizer='own' if own_optimizer else 'trusted')

    def requests(self, ctx):
        return [Request('train', self.train_params(ctx), answer_bytes=16 * 2**20)]

    def weights(self, answer, rotation):
        """The trained weights in pixel coordinates (W1 <- Q W1), or (None, why not)."""
        hidden = self.settings['hidden_size']
        shapes = {'W1': (784, 10)} if self.p['model'] == 'SoftmaxRegression' else \
            {'W1': (784, hidden), 'b1': (hidden,), 'W2': (hidden, 10), 'b2': (10,)}
        weights = {}
        for name, shape in shapes.items():
            raw = answer.arrays.get('w:' + name)
            value = squeezed(raw, shape)
            if value is None:
                shown = 'missing' if raw is None else f"of shape {raw.shape}"
                return None, f"after training, weights['{name}'] is {shown}; expected {shape}"
            if not np.all(np.isfinite(value)):
                return None, (f"after training, weights['{name}'] holds NaN or infinity: the "
                              f"training diverged")
            weights[name] = value
        if rotation is not None:
            weights['W1'] = np.asarray(rotation, dtype=np.float64) @ weights['W1']
        return weights, None

    def reference_requests(self, ctx, got=None):
        """The reference evaluates the trained weights (after the student's run)."""
        if got is None or got[0].error:
            return []
        weights, problem = self.weights(got[0], ctx.train_rotation)
        if problem:
            return []
        return [Request('evaluate', {'model': self.p['model'],
                                     'hidden_size': self.settings['hidden_size']},
                        {'w:' + k: v for k, v in weights.items()}, answer_bytes=2**16)]

    def check(self, got, ref, ctx):
        weights, problem = self.weights(got[0], ctx.train_rotation)
        if problem:
            return Verdict(0.0, problem)
        accuracy = float(ref[0].arrays['accuracy'])
        recall = ref[0].arrays['recall']
        credit = self.credit_for(accuracy)
        needed = self.p['bands'][0]['min_accuracy']
        text = f"test accuracy {accuracy:.4f} (full credit from {needed:.3f})"
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
