"""Generate the reference figures and numbers of the coding report's solutions.

    python make_report_assets.py [--quick] [--out generated]

Trains the solutions package exactly as the notebook does (train.run_experiment
on the default configs, a learning-rate sweep, a regularization sweep, and a
tuning step that combines the sweeps' winners), plus two diagnostic runs that
no student trains: softmax regression without the ReLU on its scores, and the
two-layer network at a learning rate ten times the sweep's largest; and writes:

    generated/report_values.tex   the macros report.tex typesets (list below)
    generated/tuned_config.yaml   the configuration the tuning step selected
    generated/softmax_curves.png, twolayer_curves.png, lr_sweep.png, reg_sweep.png

The tuned configuration is not typed by anyone: among every run trained here
with the two-layer network (the sweeps and the combined candidates), the one
with the highest validation accuracy wins, as in the notebook's tuning section.

The model answers of report.tex state facts about these runs in words (e.g.
"the weakest penalty is best"). A full run checks every such claim (CLAIMS
below) against what it measured and exits with status 1, naming each claim
that no longer holds, so the text cannot silently drift from the numbers.

--quick trains one epoch per run on a fixed subset of the data (a few seconds
in all): it exercises the whole pipeline and the LaTeX build, checks no claim,
and its numbers are not the report's. The full run (about two minutes on two
cores) is what the solutions report is built from:

    python written/make_report_assets.py && written/build.sh report_solutions
"""
import argparse
import math
import sys
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE.parent / 'solutions'
LEARNING_RATES = (1, 0.1, 0.05, 0.01)
# The diagnostic run "too large a learning rate": ten times the sweep's largest.
HUGE_LR = 10 * max(LEARNING_RATES)
REGULARIZATIONS = (1, 0.1, 0.01, 0.001, 0.0001)
# Tuning candidates: the best learning rate of its sweep times each factor,
# with the best regularization strength of its sweep.
TUNING_LR_FACTORS = (1, 0.5)
# The columns of the sweep tables, after the setting itself. report.tex types
# the same headers in its student sheet (tests/test_written.py checks this).
LR_COLUMNS = ('Final training loss', 'Final validation accuracy')
REG_COLUMNS = ('Final training accuracy', 'Final validation accuracy')
# --quick: this many training and validation examples (the first ones).
QUICK_TRAIN, QUICK_VALID = 4000, 2000
CHANCE = 0.15  # validation accuracy below this counts as "at chance" (10 classes)
DEAD_RECALL = 0.01  # a class whose test recall is below this is never predicted
# theory.tex (the remark after Problem 2.3) quotes the penalised training loss
# that the default softmax regression reaches, to two decimals; a full run
# checks that it still does (tests/test_written.py checks that theory.tex
# quotes this very string).
THEORY_PENALISED_LOSS = '0.60'


def percent(value):
    return f'{100 * value:.1f}\\%'


def setting(value):
    """A setting as report.tex shows it: 0.0001, never 1e-04."""
    return f'{value:.10f}'.rstrip('0').rstrip('.')


def sweep_rows(settings, cells):
    """Rows of a sweep table: one per setting, its cells already formatted."""
    return ''.join(f'    ${setting(value)}$ & ' + ' & '.join(row) + ' \\\\\n'
                   for value, row in zip(settings, cells))


def sweep_figure(title, label, settings, runs, path):
    """One figure comparing the runs: validation loss and accuracy per epoch."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for value, run in zip(settings, runs):
        epochs = range(1, len(run.valid_acc) + 1)
        ax_loss.plot(epochs, run.valid_loss, marker='o', label=f'{label} = {setting(value)}')
        ax_acc.plot(epochs, run.valid_acc, marker='o', label=f'{label} = {setting(value)}')
    for ax, name in ((ax_loss, 'Validation loss'), (ax_acc, 'Validation accuracy')):
        ax.set_xlabel('Epoch')
        ax.set_ylabel(name)
        ax.set_title(f'{name} per epoch')
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def class_recall(model, X, y, num_classes=10):
    """Recall of every class: the model's accuracy on that class's examples alone."""
    import numpy as np

    return [model.forward(X[y == c], y[y == c], mode='test')[1] if np.any(y == c)
            else float('nan') for c in range(num_classes)]


def linear_softmax_class():
    """SoftmaxRegression without the ReLU on its scores: the linear softmax classifier.

    Only the activation changes (identity, derivative one); the forward pass,
    the initialization and the training are the solutions' own.
    """
    import numpy as np
    from models import SoftmaxRegression

    class LinearSoftmax(SoftmaxRegression):
        def ReLU(self, X):
            return np.asarray(X)

        def ReLU_dev(self, X):
            return np.ones_like(np.asarray(X))

    return LinearSoftmax


@contextmanager
def model_class(cls):
    """Make train.run_experiment build `cls()` instead of the config's model."""
    import train
    original = train.build_model
    train.build_model = lambda config: cls()
    try:
        yield
    finally:
        train.build_model = original


def class_list(classes):
    """1 -> '1'; 1, 7 -> '1 and 7'; 1, 5, 7 -> '1, 5 and 7'; none -> 'none'."""
    names = [str(c) for c in classes]
    if not names:
        return 'none'
    return names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]


def dead_phrase(dead, recall):
    """'class 1 has test recall 0.0%', or the same for several classes."""
    if not dead:
        return f'no class has a test recall below {percent(DEAD_RECALL)}'
    if len(dead) == 1:
        return f'class {dead[0]} has test recall {percent(recall[dead[0]])}'
    return f'classes {class_list(dead)} have test recall below {percent(DEAD_RECALL)}'


def plateau_epochs(run):
    """How many epochs from the first the validation accuracy stays at chance."""
    count = 0
    for acc in run.valid_acc:
        if acc >= CHANCE:
            break
        count += 1
    return count


def std_err(accuracy, n):
    """Standard error of an accuracy measured on n independent examples."""
    return math.sqrt(accuracy * (1 - accuracy) / n)


def points(fraction, digits=1):
    """A difference of accuracies in percentage points, as the report prints it."""
    return f'{100 * fraction:.{digits}f}'


def dips(values):
    """The falls from one epoch to the next: [previous - next for every fall]."""
    return [a - b for a, b in zip(values, values[1:]) if b < a]


def rises(values):
    """How often a value rises from one epoch to the next."""
    return sum(b > a for a, b in zip(values, values[1:]))


def decay_factor(eta_lambda, steps):
    """What the weight decay alone leaves of a weight after `steps` SGD steps.

    Each step multiplies every weight matrix by (1 - eta * lambda) before the
    data gradient is applied (w <- w - eta * (grad + lambda * w)).
    """
    return (1 - eta_lambda) ** steps


def penalised_loss(model, X, y, reg):
    """The training objective SGD minimises: mean cross-entropy + reg/2 * sum of W**2.

    Args:
        model: a trained model; X: (N, 784) float32, y: (N,) int64.
        reg: float, the L2 strength of its run. Biases are not penalised.
    Returns:
        float.
    """
    import numpy as np

    loss, _ = model.forward(X, y, mode='valid')  # the models report it without the penalty
    return float(loss) + reg / 2 * sum(float(np.sum(np.asarray(w, dtype=np.float64) ** 2))
                                       for name, w in model.weights.items()
                                       if name.startswith('W'))


def describe(config):
    t, m = config['Train'], config['Model']
    return (f"{m['type']}, hidden size {m['hidden_size']}, learning rate "
            f"{setting(t['learning_rate'])}, reg {setting(t['reg'])}, batch size "
            f"{t['batch_size']}, {t['epochs']} epochs")


def write_config(config, path, note):
    import yaml

    text = yaml.safe_dump({'Train': dict(config['Train'], debug=False),
                           'Model': dict(config['Model'])}, sort_keys=False)
    path.write_text(note + text)


def measure(quick):
    """Train every run of the report; return the measurements by name."""
    sys.path.insert(0, str(SOLUTIONS))
    from config import load_config
    from train import load_data, run_experiment

    data = load_data()
    if quick:
        train_x, train_y, val_x, val_y, test_x, test_y = data
        data = (train_x[:QUICK_TRAIN], train_y[:QUICK_TRAIN], val_x[:QUICK_VALID],
                val_y[:QUICK_VALID], test_x, test_y)
    epochs = 1 if quick else None

    def run(config, **train_changes):
        config = {section: dict(values) for section, values in config.items()}
        config['Train'].update(train_changes, debug=False)
        return run_experiment(config, data=data, epochs=epochs, verbose=False)

    softmax_config = load_config(SOLUTIONS / 'configs' / 'config_softmax.yaml')
    twolayer_config = load_config(SOLUTIONS / 'configs' / 'config_twolayer.yaml')
    m = {'data': data, 'softmax_config': softmax_config, 'twolayer_config': twolayer_config}
    m['softmax'] = run(softmax_config)
    with model_class(linear_softmax_class()):
        m['linear'] = run(softmax_config)
    m['twolayer'] = run(twolayer_config)
    m['lr_runs'] = [run(twolayer_config, learning_rate=lr) for lr in LEARNING_RATES]
    m['huge_lr'] = run(twolayer_config, learning_rate=HUGE_LR)
    m['reg_runs'] = [run(twolayer_config, reg=reg) for reg in REGULARIZATIONS]

    def best(settings, runs):
        return max(zip(settings, runs), key=lambda pair: pair[1].valid_acc[-1])[0]

    best_lr, best_reg = best(LEARNING_RATES, m['lr_runs']), best(REGULARIZATIONS, m['reg_runs'])
    candidates = [(run_.config, run_) for run_ in m['lr_runs'] + m['reg_runs']]
    for factor in TUNING_LR_FACTORS:
        lr = best_lr * factor
        config = {s: dict(v) for s, v in twolayer_config.items()}
        config['Train'].update(learning_rate=lr, reg=best_reg)
        if not any(c['Train'] == dict(config['Train'], debug=False) for c, _ in candidates):
            candidates.append((config, run(config)))
    m['candidates'] = candidates
    config, tuned = max(candidates, key=lambda pair: max(pair[1].valid_acc))
    # The config as it was trained (--quick trains fewer epochs than it says).
    m['tuned_config'] = {'Train': dict(config['Train'], epochs=len(tuned.valid_acc)),
                         'Model': dict(config['Model'])}
    m['tuned'] = tuned
    return m


def drops(run):
    """How often the validation accuracy falls from one epoch to the next."""
    return len(dips(run.valid_acc))


def steps_per_epoch(m):
    return math.ceil(len(m['data'][0]) / m['twolayer_config']['Train']['batch_size'])


def eta_lambda(config):
    return config['Train']['learning_rate'] * config['Train']['reg']


def claims(m):
    """(claim the written answers make, whether this run shows it).

    m: the measurements of measure(), with the recalls and the penalised loss
    that main() adds.
    """
    softmax, linear, twolayer = m['softmax'], m['linear'], m['twolayer']
    lr_runs, reg_runs = m['lr_runs'], m['reg_runs']
    lr_final = [run.valid_acc[-1] for run in lr_runs]
    reg_final = [run.valid_acc[-1] for run in reg_runs]
    recall, linear_recall = m['softmax_recall'], m['linear_recall']
    t = m['twolayer_config']['Train']
    best_lr = LEARNING_RATES[lr_final.index(max(lr_final))]
    return [
        ("the linear softmax classifier beats softmax regression with its ReLU by more "
         "than 5 points of validation accuracy",
         max(linear.valid_acc) > max(softmax.valid_acc) + 0.05),
        ("softmax regression with its ReLU never predicts at least one class (test "
         "recall below 1%)", min(recall) < DEAD_RECALL),
        ("without the ReLU every class is recognised (test recall above 50%)",
         min(linear_recall) > 0.5),
        ("the two-layer network beats both softmax models on validation accuracy",
         max(twolayer.valid_acc) > max(max(linear.valid_acc), max(softmax.valid_acc))),
        ("no model overfits: final validation accuracy is at least the final training "
         "accuracy for both default runs", all(run.valid_acc[-1] >= run.train_acc[-1]
                                               for run in (softmax, twolayer))),
        ("no learning rate of the sweep diverges: every training loss is finite and the "
         "last one is below log(10)", all(all(map(math.isfinite, run.train_loss))
                                          and run.train_loss[-1] < math.log(10)
                                          for run in lr_runs)),
        ("the largest learning rate is the best one after the last epoch",
         lr_final.index(max(lr_final)) == 0),
        ("final validation accuracy falls with the learning rate",
         all(a > b for a, b in zip(lr_final, lr_final[1:]))),
        ("the final training loss rises as the learning rate falls",
         all(a.train_loss[-1] < b.train_loss[-1] for a, b in zip(lr_runs, lr_runs[1:]))),
        ("the largest learning rate's validation accuracy dips at least once, and every "
         "dip is at most two standard errors of its final validation accuracy (within "
         "the noise of the measurement)", drops(lr_runs[0]) >= 1
         and max(dips(lr_runs[0].valid_acc)) <= 2 * std_err(lr_final[0], len(m['data'][3]))),
        (f"at learning rate {setting(HUGE_LR)} (too large) the training loss rises from one "
         "epoch to the next at least twice", rises(m['huge_lr'].train_loss) >= 2),
        (f"at learning rate {setting(HUGE_LR)} the final validation accuracy is more than 5 "
         "points below the sweep's largest rate's, and below it at every epoch",
         m['huge_lr'].valid_acc[-1] < lr_final[0] - 0.05
         and all(a < b for a, b in zip(m['huge_lr'].valid_acc, lr_runs[0].valid_acc))),
        ("every learning rate's training loss falls at every epoch",
         all(b < a for run in lr_runs for a, b in zip(run.train_loss, run.train_loss[1:]))),
        ("both default runs are still improving: their best validation epoch is the last",
         all(run.best_epoch == len(run.valid_acc) for run in (softmax, twolayer))),
        ("with L2 strength 0.1 the network learns a little and erratically (validation "
         "accuracy below 50% that drops at least twice)",
         reg_runs[1].valid_acc[-1] < 0.5 and drops(reg_runs[1]) >= 2),
        ("the smallest learning rate starts at chance for at least two epochs",
         plateau_epochs(lr_runs[-1]) >= 2),
        ("final validation accuracy rises as the L2 strength falls: the weakest penalty "
         "is best", all(a < b for a, b in zip(reg_final, reg_final[1:]))),
        ("the largest L2 strength leaves the network at chance",
         reg_runs[0].valid_acc[-1] < CHANCE),
        ("in the regularization sweep, validation accuracy is at least training "
         "accuracy for every strength", all(run.valid_acc[-1] >= run.train_acc[-1]
                                           for run in reg_runs)),
        ("learning rate times L2 strength stays at or below 0.1 in the sweep",
         t['learning_rate'] * max(REGULARIZATIONS) <= 0.1 + 1e-12),
        ("the tuned configuration beats the default by at least 2 points of "
         "validation accuracy", max(m['tuned'].valid_acc) >= max(twolayer.valid_acc) + 0.02),
        ("the two changes combine: the tuned run beats the best run of each sweep",
         max(m['tuned'].valid_acc) > max(max(run.valid_acc) for run in lr_runs + reg_runs)),
        ("the tuned configuration's weight decay per step (learning rate times L2 "
         "strength) is smaller than that of the best learning rate at the default L2 "
         "strength", eta_lambda(m['tuned_config']) < best_lr * t['reg']),
        ("the tuned run's validation and test accuracy differ by less than two standard "
         "errors", abs(max(m['tuned'].valid_acc) - m['tuned'].test_acc)
         < 2 * std_err(max(m['tuned'].valid_acc), len(m['data'][3]))),
        (f"theory.tex: the default softmax regression's penalised training loss is "
         f"{THEORY_PENALISED_LOSS} (two decimals), below log(10)",
         f"{m['softmax_penalised']:.2f}" == THEORY_PENALISED_LOSS
         and m['softmax_penalised'] < math.log(10)),
    ]


def recall_table(m):
    rows = ''.join(f'    {c} & {percent(a)} & {percent(b)} & {percent(d)} \\\\\n'
                   for c, (a, b, d) in enumerate(zip(m['softmax_recall'], m['linear_recall'],
                                                     m['twolayer_recall'])))
    return ('\\begin{tabular}{cccc}\n    \\toprule\n'
            '    Class & Softmax regression & Without the ReLU & Two-layer network \\\\\n'
            '    \\midrule\n' + rows + '    \\bottomrule\n  \\end{tabular}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help="one epoch per run on a subset: for tests, not for the report")
    parser.add_argument('--out', default=str(HERE / 'generated'), help="output folder")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    m = measure(args.quick)
    from utils import plot_curves
    import matplotlib.pyplot as plt

    softmax, linear, twolayer, tuned = m['softmax'], m['linear'], m['twolayer'], m['tuned']
    lr_runs, reg_runs = m['lr_runs'], m['reg_runs']
    test_x, test_y = m['data'][4], m['data'][5]
    for key, run in (('softmax', softmax), ('linear', linear), ('twolayer', twolayer)):
        m[f'{key}_recall'] = class_recall(run.model, test_x, test_y)
    m['softmax_penalised'] = penalised_loss(softmax.model, m['data'][0], m['data'][1],
                                            m['softmax_config']['Train']['reg'])

    for name, result in (('softmax', softmax), ('twolayer', twolayer)):
        fig = plot_curves(result.train_loss, result.train_acc, result.valid_loss,
                          result.valid_acc, save_path=str(out / f'{name}_curves.png'))
        plt.close(fig)
    sweep_figure('Two-layer network: learning-rate sweep', 'learning rate', LEARNING_RATES,
                 lr_runs, out / 'lr_sweep.png')
    sweep_figure('Two-layer network: regularization sweep', 'reg', REGULARIZATIONS,
                 reg_runs, out / 'reg_sweep.png')
    mode = ' --quick' if args.quick else ''
    write_config(m['tuned_config'], out / 'tuned_config.yaml',
                 f"# Generated by make_report_assets.py{mode}: of the {len(m['candidates'])} "
                 f"two-layer runs it trained\n# (both sweeps and the combined candidates), "
                 f"the one with the best validation accuracy.\n")

    lr_final = [run.valid_acc[-1] for run in lr_runs]
    reg_final = [run.valid_acc[-1] for run in reg_runs]
    best_lr = LEARNING_RATES[lr_final.index(max(lr_final))]
    best_reg = REGULARIZATIONS[reg_final.index(max(reg_final))]
    dead = [c for c, r in enumerate(m['softmax_recall']) if r < DEAD_RECALL]
    t = m['twolayer_config']['Train']
    steps = steps_per_epoch(m)
    huge = m['huge_lr']
    per_epoch = sum(twolayer.seconds_per_epoch) / len(twolayer.seconds_per_epoch)
    values = {
        # Default runs: best validation epoch, its test accuracy, and the final epoch.
        'SoftmaxValAcc': percent(max(softmax.valid_acc)),
        'SoftmaxTestAcc': percent(softmax.test_acc),
        'SoftmaxFinalTrainAcc': percent(softmax.train_acc[-1]),
        'SoftmaxFinalValAcc': percent(softmax.valid_acc[-1]),
        'LinearSoftmaxValAcc': percent(max(linear.valid_acc)),
        'LinearSoftmaxTestAcc': percent(linear.test_acc),
        'TwoLayerValAcc': percent(max(twolayer.valid_acc)),
        'TwoLayerTestAcc': percent(twolayer.test_acc),
        'TwoLayerFinalTrainAcc': percent(twolayer.train_acc[-1]),
        'TwoLayerFinalValAcc': percent(twolayer.valid_acc[-1]),
        'SecondsPerEpoch': f'{per_epoch:.2f}',
        # Per-class test recall.
        'RecallTable': recall_table(m),
        'SoftmaxDeadPhrase': dead_phrase(dead, m['softmax_recall']),
        'LinearMinRecall': percent(min(m['linear_recall'])),
        # Learning-rate sweep.
        'LRSweepRows': sweep_rows(LEARNING_RATES, [
            (f'{run.train_loss[-1]:.3f}', percent(run.valid_acc[-1])) for run in lr_runs]),
        'BestLR': setting(best_lr),
        'BestLRValAcc': percent(max(lr_final)),
        'SmallestLR': setting(LEARNING_RATES[-1]),
        'SmallLRPlateauEpochs': str(plateau_epochs(lr_runs[-1])),
        'SmallLRPlateauAcc': percent(lr_runs[-1].valid_acc[0]),
        'SmallLRFinalValAcc': percent(lr_final[-1]),
        # The largest rate's dips against the noise of a validation accuracy.
        'LargestLRDips': str(drops(lr_runs[0])),
        'LargestLRMaxDip': points(max(dips(lr_runs[0].valid_acc), default=0.0)),
        'LargestLRStdErr': f"{100 * std_err(lr_final[0], len(m['data'][3])):.2f}",
        # The diagnostic run at a learning rate ten times the sweep's largest.
        'HugeLR': setting(HUGE_LR),
        'HugeLRLossRises': str(rises(huge.train_loss)),
        'HugeLREpochSteps': str(len(huge.train_loss) - 1),
        'HugeLRMinValAcc': percent(min(huge.valid_acc)),
        'HugeLRMaxValAcc': percent(max(huge.valid_acc)),
        # Regularization sweep.
        'RegSweepRows': sweep_rows(REGULARIZATIONS, [
            (percent(run.train_acc[-1]), percent(run.valid_acc[-1])) for run in reg_runs]),
        'BestReg': setting(best_reg),
        'BestRegValAcc': percent(max(reg_final)),
        'LargestRegValAcc': percent(reg_final[0]),
        'SecondRegValAcc': percent(reg_final[1]),
        'SweepLR': setting(t['learning_rate']),
        'StepsPerEpoch': f"{steps:,}",
        'MaxEtaLambda': setting(t['learning_rate'] * max(REGULARIZATIONS)),
        # Tuning.
        'TunedConfig': describe(m['tuned_config']),
        'TunedValAcc': percent(max(tuned.valid_acc)),
        'TunedTestAcc': percent(tuned.test_acc),
        'TuningCandidates': str(len(m['candidates'])),
        'TunedValStdErr': f"{100 * std_err(max(tuned.valid_acc), len(m['data'][3])):.2f}",
        'TunedGap': points(abs(max(tuned.valid_acc) - tuned.test_acc), digits=2),
        # Weight decay per step (eta * lambda) and what it alone leaves after an epoch.
        'BestLREtaLambda': setting(best_lr * t['reg']),
        'BestLRDecay': f"{decay_factor(best_lr * t['reg'], steps):.2f}",
        'TunedEtaLambda': setting(eta_lambda(m['tuned_config'])),
        'TunedDecay': f"{decay_factor(eta_lambda(m['tuned_config']), steps):.2f}",
        'ValidationSize': f"{len(m['data'][3]):,}",
    }
    note = f'% Generated by make_report_assets.py{mode}.\n'
    text = note + ''.join(f'\\newcommand{{\\{name}}}{{{value}}}\n'
                          for name, value in values.items())
    (out / 'report_values.tex').write_text(text)
    print(f"wrote {out}{' (quick: not the report numbers)' if args.quick else ''}")
    print(f"  softmax regression  val {max(softmax.valid_acc):.4f} test {softmax.test_acc:.4f}"
          f"  recall " + ' '.join(f'{r:.3f}' for r in m['softmax_recall']))
    print(f"  without the ReLU    val {max(linear.valid_acc):.4f} test {linear.test_acc:.4f}"
          f"  recall " + ' '.join(f'{r:.3f}' for r in m['linear_recall']))
    print(f"  two-layer network   val {max(twolayer.valid_acc):.4f} test "
          f"{twolayer.test_acc:.4f}  final train {twolayer.train_acc[-1]:.4f}")
    for label, settings, runs in (('lr', LEARNING_RATES, lr_runs),
                                  ('reg', REGULARIZATIONS, reg_runs)):
        for value, run in zip(settings, runs):
            print(f"  {label} {setting(value):7s} final train loss {run.train_loss[-1]:.4f} "
                  f"acc {run.train_acc[-1]:.4f}  val " +
                  ' '.join(f'{a:.3f}' for a in run.valid_acc))
    print(f"  lr {setting(HUGE_LR)} (diagnostic) train loss "
          + ' '.join(f'{v:.3f}' for v in huge.train_loss) + "  val "
          + ' '.join(f'{a:.3f}' for a in huge.valid_acc))
    print(f"  tuned: {describe(m['tuned_config'])}: val {max(tuned.valid_acc):.4f} "
          f"test {tuned.test_acc:.4f}")
    print(f"  softmax regression's penalised training loss {m['softmax_penalised']:.4f} "
          f"(log 10 = {math.log(10):.4f})")
    broken = [claim for claim, holds in claims(m) if not holds]
    if args.quick:
        print(f"  --quick: {len(broken)} of the report's claims do not hold for these "
              f"numbers (expected: they describe the full run, which checks them)")
        return 0
    for claim in broken:
        print(f"make_report_assets.py: report.tex claims that {claim}, which this run does "
              f"not show: update the model answers", file=sys.stderr)
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())
