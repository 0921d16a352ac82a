"""Generate the reference figures and numbers of the coding report's solutions.

    python make_report_assets.py [--quick] [--out generated]

Trains the solutions package exactly as the notebook does (train.run_experiment
on the default configs, a learning-rate sweep, a regularization sweep, and the
tuned configuration of tuned_config.yaml) and writes:

    generated/report_values.tex   the macros report.tex typesets
    generated/softmax_curves.png, twolayer_curves.png, lr_sweep.png, reg_sweep.png

--quick trains one epoch per run (for tests of the LaTeX build, not for the
report). The full run takes about a minute on two cores.
"""
import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE.parent / 'solutions'
LEARNING_RATES = (1, 0.1, 0.05, 0.01)
REGULARIZATIONS = (1, 0.1, 0.01, 0.001, 0.0001)


def percent(value):
    return f'{100 * value:.1f}\\%'


def sweep_table(name, settings, runs):
    """A complete tabular: one row per setting, final and best validation accuracy."""
    rows = ''.join(f'    {setting:g} & {percent(run.train_acc[-1])} & {percent(run.valid_acc[-1])} '
                   f'& {percent(max(run.valid_acc))} \\\\\n' for setting, run in zip(settings, runs))
    return ('\\begin{tabular}{rccc}\n    \\toprule\n'
            f'    {name} & train acc. & final val.\\ acc. & best val.\\ acc. \\\\\n'
            '    \\midrule\n' + rows + '    \\bottomrule\n  \\end{tabular}')


def sweep_figure(title, label, settings, runs, path):
    """One figure comparing the runs: validation loss and accuracy per epoch."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for setting, run in zip(settings, runs):
        epochs = range(1, len(run.valid_acc) + 1)
        ax_loss.plot(epochs, run.valid_loss, marker='o', label=f'{label} = {setting:g}')
        ax_acc.plot(epochs, run.valid_acc, marker='o', label=f'{label} = {setting:g}')
    for ax, name in ((ax_loss, 'Validation loss'), (ax_acc, 'Validation accuracy')):
        ax.set_xlabel('Epoch')
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help="one epoch per run")
    parser.add_argument('--out', default=str(HERE / 'generated'), help="output folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(SOLUTIONS))
    from config import load_config
    from train import load_data, run_experiment
    from utils import plot_curves

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = 1 if args.quick else None
    data = load_data()

    def run(config, **train_changes):
        config = {section: dict(values) for section, values in config.items()}
        config['Train'].update(train_changes, debug=False)
        return run_experiment(config, data=data, epochs=epochs, verbose=False)

    softmax_config = load_config(SOLUTIONS / 'configs' / 'config_softmax.yaml')
    twolayer_config = load_config(SOLUTIONS / 'configs' / 'config_twolayer.yaml')
    softmax, twolayer = run(softmax_config), run(twolayer_config)
    for name, result in (('softmax', softmax), ('twolayer', twolayer)):
        fig = plot_curves(result.train_loss, result.train_acc, result.valid_loss,
                          result.valid_acc, save_path=str(out / f'{name}_curves.png'))
        import matplotlib.pyplot as plt
        plt.close(fig)
    lr_runs = [run(twolayer_config, learning_rate=lr) for lr in LEARNING_RATES]
    reg_runs = [run(twolayer_config, reg=reg) for reg in REGULARIZATIONS]
    sweep_figure('Two-layer network: learning-rate sweep', 'learning rate', LEARNING_RATES,
                 lr_runs, out / 'lr_sweep.png')
    sweep_figure('Two-layer network: regularization sweep', 'reg', REGULARIZATIONS,
                 reg_runs, out / 'reg_sweep.png')
    tuned_config = load_config(HERE / 'tuned_config.yaml')
    tuned = run(tuned_config)
    t, m = tuned_config['Train'], tuned_config['Model']
    tuned_text = (f"{m['type']}, hidden size {m['hidden_size']}, learning rate "
                  f"{t['learning_rate']:g}, reg {t['reg']:g}, batch {t['batch_size']}, "
                  f"{t['epochs']} epochs")
    per_epoch = sum(twolayer.seconds_per_epoch) / len(twolayer.seconds_per_epoch)
    values = {
        'SoftmaxTestAcc': percent(softmax.test_acc),
        'SoftmaxValAcc': percent(max(softmax.valid_acc)),
        'TwoLayerTestAcc': percent(twolayer.test_acc),
        'TwoLayerValAcc': percent(max(twolayer.valid_acc)),
        'SecondsPerEpoch': f'{per_epoch:.2f}',
        'TunedConfig': tuned_text,
        'TunedTestAcc': percent(tuned.test_acc),
        'LRSweepTable': sweep_table('learning rate', LEARNING_RATES, lr_runs),
        'RegSweepTable': sweep_table('reg', REGULARIZATIONS, reg_runs),
    }
    note = '% Generated by make_report_assets.py' + (' --quick' if args.quick else '') + '.\n'
    text = note + ''.join(f'\\newcommand{{\\{name}}}{{{value}}}\n' for name, value in values.items())
    (out / 'report_values.tex').write_text(text)
    print(f"wrote {out}: two-layer test accuracy {twolayer.test_acc:.4f}, tuned "
          f"{tuned.test_acc:.4f}, softmax {softmax.test_acc:.4f}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
