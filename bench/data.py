"""Loading MNIST: the kit's loader (first load, cached load) vs the CSV-lists loader."""
import json
import shutil
import sys
import tempfile
from pathlib import Path

from . import core
from .csv_loader import write_csv

SECTION = 'data'
FILES = ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
         't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')
FULL_ROWS = 70000
QUICK_ROWS = {'train': 3000, 'test': 500}  # CSV rows parsed in --quick mode


def _read_idx():
    """The kit's own IDX decoder (solutions/utils.py), imported under a private name."""
    import importlib.util

    spec = importlib.util.spec_from_file_location('_bench_kit_utils', core.SOLUTIONS / 'utils.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read_idx


def make_csv(settings, source):
    """mnist_train.csv and mnist_test.csv from the .gz files, cached in OUT/cache/.

    Returns:
        (list of CSV paths, rows in them).
    """
    limits = QUICK_ROWS if settings.quick else {'train': None, 'test': None}
    folder = settings.out / 'cache'
    folder.mkdir(parents=True, exist_ok=True)
    stamp = {'files': {n: [(source / n).stat().st_size, (source / n).stat().st_mtime_ns]
                       for n in FILES}, 'limits': limits}
    stamp_path = folder / ('csv-quick.json' if settings.quick else 'csv.json')
    paths = [folder / f"mnist_{split}{'-quick' if settings.quick else ''}.csv"
             for split in ('train', 'test')]
    try:
        saved = json.loads(stamp_path.read_text())
        rows = saved.pop('rows')
        if saved == stamp and all(p.exists() for p in paths):
            return paths, rows
    except (OSError, ValueError, KeyError, AttributeError):
        pass  # no CSV yet, or from other files
    read_idx = _read_idx()
    rows = 0
    for path, (split, images, labels) in zip(paths, (
            ('train', FILES[0], FILES[1]), ('test', FILES[2], FILES[3]))):
        rows += write_csv(read_idx(source / images, 3), read_idx(source / labels, 1), path,
                          limits[split])
    stamp['rows'] = rows
    stamp_path.write_text(json.dumps(stamp))
    return paths, rows


def run(settings):
    source = core.mnist_dir()
    missing = [n for n in FILES if not (source / n).is_file()]
    if missing:
        err = FileNotFoundError(f"MNIST files missing in {source}: {missing} (run get_data.sh)")
        return [core.failed(SECTION, name, 's', err) for name in
                ('first load, train+test (kit loader)', 'cached load, train+test (kit loader)')]
    settings.say("data: writing the CSV files (cached in OUT/cache)")
    csv_files, csv_rows = make_csv(settings, source)
    scale = FULL_ROWS / csv_rows  # 1 in a full run; the --quick estimate otherwise
    rounds = settings.rounds
    first, cached, csv = [], [], []
    for r in range(rounds):
        settings.say(f"data: round {r + 1}/{rounds}")
        folder = Path(tempfile.mkdtemp(prefix='bench-mnist-'))
        try:
            for name in FILES:
                shutil.copy2(source / name, folder / name)
            params = {'solutions': str(settings.solutions)}
            env = {'MNIST_DIR': str(folder)}
            # In each round: first load (fills the cache), CSV, cached load.
            result, _ = core.run_worker('load_kit', params, extra_env=env)
            if result['cached_before']:
                raise RuntimeError(f"{folder}: a cache before the first load")
            first.append(result['seconds'])
            csv_result, _ = core.run_worker('load_csv', {'files': [str(p) for p in csv_files]})
            csv.append(csv_result['seconds'] * scale)
            result, _ = core.run_worker('load_kit', params, extra_env=env)
            if not result['cached_before']:
                raise RuntimeError(f"{folder}: the first load wrote no cache")
            cached.append(result['seconds'])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    baseline = core.summary(csv)
    csv_name = 'CSV-lists loader (bench/csv_loader.py)'
    estimate = (f" The CSV baseline parsed {csv_rows:,} rows and is scaled to 70,000 "
                f"(--quick estimate)." if scale != 1 else "")
    return [
        core.row(SECTION, 'first load, train+test (kit loader)', 's', core.summary(first),
                 baseline, csv_name,
                 note="Fresh copy of the 4 .gz files (MNIST_DIR), no cache: gzip decode, "
                      "scale to float32, write the .npy cache, touch every page."
                      + estimate),
        core.row(SECTION, 'cached load, train+test (kit loader)', 's', core.summary(cached),
                 baseline, csv_name, target=('<=', 1 / 200, '>= 200x faster than CSV'),
                 note="Fresh process, cache present: stamp check, np.load memory-maps the "
                      "4 .npy files copy-on-write, then one element of every 4 KiB page is "
                      "read (so every page is mapped in; the files are in the OS page cache, "
                      "as after any earlier run). Imports are not timed, for either loader."
                      + estimate),
    ]


if __name__ == '__main__':
    sys.exit("run `python -m bench` instead")
