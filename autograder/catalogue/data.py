"""Kinds 'split' and 'batching': the data pipeline of utils.py.

    kind: split
    tolerance: 1.0e-6            # relative error of each image's pixel sum

The parts must match the reference's: the first 48,000 images train, the
last 12,000 validate, in the files' order.

The sandbox holds the MNIST training set in both layouts students code
against: the four .gz files where $MNIST_DIR points (this kit's loader) and
./data/mnist_train.csv, ./data/mnist_test.csv (the course's load_csv: a
label then 784 integers 0-255 per line). Lists and arrays are both accepted.

    kind: batching
    n: 53                        # examples (their labels are 0..n-1, paired with data rows)
    batch_size: 10
    calls: [{shuffle: false, seed: null, as_list: false, n: 50}]   # n: the first n only
    sizes: true                  # whether batch sizes are judged here
    types: false                 # whether the batches must be numpy arrays (judged here)

Every call must return its examples once each, data and labels paired, in
order without shuffle; that every example is there is judged with the batch
sizes (a last example dropped costs that test only). A call with shuffle and a seed must give the same order
every time for that seed, and other seeds other orders; a call with
shuffle and seed None must shuffle too. Seeds are never 0: the course's
given code seeds with `if seed:`, so 0 draws a fresh order there, by design.
Batch sizes (every batch full but the last, no empty batch) are judged only
where `sizes` is true, and the batches' type (numpy arrays, as returned: the
training loop reads batch.shape) only where `types` is, so one defect costs
one test. Each call is fed what the package's scaffold promises: arrays or
lists where the kit's stubs say "array or list", lists only for the
course's skeleton ("a list of list"); a call of the other kind is made with
the promised one instead.
"""
import numpy as np

from . import schema as s
from .kind import UTILS, Kind, mismatch
from .types import Request, Verdict


class Split(Kind):
    name = 'split'
    reads = ('utils.py',)
    data = 'public'
    PARAMS = {
        'tolerance': s.Param(s.number(0), doc="relative error of each image's pixel sum"),
    }

    def needs(self):
        return (UTILS,)

    def requests(self, ctx):
        return [Request('split', {}, {}, answer_bytes=8 * 2**20)]

    def check(self, got, ref, ctx):
        meta, arrays = got[0].meta, got[0].arrays
        lengths = meta.get('lengths') if isinstance(meta.get('lengths'), dict) else {}
        want = ref[0].meta['lengths']
        problems = []
        for name in ('train_data', 'train_label', 'val_data', 'val_label'):
            if lengths.get(name) != want[name]:
                what = 'the first' if name.startswith('train') else 'the last'
                problems.append(f"{name}: {lengths.get(name)} examples, expected {want[name]} "
                                f"({what} part of the 60,000 training images)")
        widths = meta.get('widths') if isinstance(meta.get('widths'), dict) else {}
        for name in ('train_data', 'val_data'):
            if not problems and widths.get(name) != 784:
                problems.append(f"{name}: images of {widths.get(name)} values, expected 784")
        if problems:
            return Verdict(0.0, '; '.join(problems))
        for key in ('train_label', 'val_label', 'train_data_rowsum', 'val_data_rowsum'):
            tolerance = 0.0 if key.endswith('label') else self.p['tolerance']
            problem = mismatch(key.replace('_rowsum', ' (pixel sums)'), arrays.get(key),
                               ref[0].arrays[key], tolerance)
            if problem and key.endswith('rowsum'):
                scale = _scale(arrays.get(key), ref[0].arrays[key], tolerance)
                if scale is not None:
                    name = key[:-len('_rowsum')]
                    hint = " (divide by 255)" if abs(scale - 255) < 0.5 else ""
                    return Verdict(0.0, f"{name}: the pixels are {scale:.4g} times their "
                                        f"values in [0, 1]; scale them to [0, 1]{hint}")
            if problem:
                return Verdict(0.0, problem + ": the split must keep the files' order, "
                                              "images and labels paired")
        kinds = meta.get('label_kinds') if isinstance(meta.get('label_kinds'), dict) else {}
        floats = [name for name in ('train_label', 'val_label') if kinds.get(name) == 'f']
        if floats:
            return Verdict(0.0, f"{' and '.join(floats)} hold floats (7.0, not 7): labels "
                                f"must be integers, since they index the probabilities "
                                f"(prob[range(N), y])")
        return Verdict(1.0, "the training/validation split is correct")


def _scale(got, want, tolerance):
    """The factor c != 1 with got = c * want (pixel sums), or None."""
    if got is None or got.shape != want.shape or not np.all(np.isfinite(got)) or \
            not want.any():
        return None
    scale = float(np.sum(got * want) / np.sum(want * want))
    if abs(scale - 1) < 1e-3 or mismatch('', got, scale * want, tolerance) is not None:
        return None
    return scale


def _call(value):
    return s.parse(value, {'shuffle': s.Param(s.boolean),
                           'seed': s.Param(lambda v: v if v is None else s.integer(1)(v), None),
                           'as_list': s.Param(s.boolean, False),
                           'n': s.Param(lambda v: v if v is None else s.integer(2)(v), None)},
                   'call')


class Batching(Kind):
    name = 'batching'
    reads = ('utils.py',)
    uses_reference = False
    PARAMS = {
        'n': s.Param(s.integer(2, 10000), doc="examples"),
        'batch_size': s.Param(s.integer(1), doc="the batch size asked for"),
        'calls': s.Param(s.listing(_call, 1), doc="the calls of generate_batched_data"),
        'sizes': s.Param(s.boolean, True, "whether batch sizes are judged (else only the "
                                          "examples, their pairing and order)"),
        'types': s.Param(s.boolean, False, "whether the batches must be numpy arrays, as "
                                           "returned (judged by one test only)"),
    }

    def __init__(self, spec):
        super().__init__(spec)
        for call in self.p['calls']:
            if call['n'] is not None and call['n'] > self.p['n']:
                raise s.RubricError(f"{spec.id}: a call's n must be at most n")

    def needs(self):
        return (UTILS,)

    def requests(self, ctx):
        n = self.p['n']
        label = np.arange(n)
        data = np.stack([label, 2 * label + 1, -label], axis=1).astype(np.float64)
        calls = [dict(batch_size=self.p['batch_size'], **c) for c in self.p['calls']]
        for call in calls:
            # Fed only what the scaffold promises generate_batched_data.
            if call['as_list'] and not ctx.stated('batch_inputs_lists'):
                call['as_list'] = False
            elif not call['as_list'] and not ctx.stated('batch_inputs_arrays'):
                call['as_list'] = True
        return [Request('batching', {'calls': calls}, {'data': data, 'label': label})]

    def check(self, got, ref, ctx):
        arrays, meta = got[0].arrays, got[0].meta
        size = self.p['batch_size']
        orders = []
        if self.p['types'] and ctx.stated('batches_are_arrays') and meta.get('arrays') is not True:
            types = meta.get('types') if isinstance(meta.get('types'), dict) else {}
            shown = ', '.join(f"{what} batches are {' / '.join(map(str, names))[:80]}"
                              for what, names in types.items() if isinstance(names, list)
                              and names and names != ['ndarray']) or "some batches are not"
            return Verdict(0.0, f"generate_batched_data() must return lists of numpy arrays "
                                f"({shown}): the training loop reads each batch's .shape")
        for i, call in enumerate(self.p['calls']):
            n = call['n'] or self.p['n']
            expected = [size] * (n // size) + ([n % size] if n % size else [])
            sizes = arrays.get(f'sizes{i}')
            label_sizes = arrays.get(f'label_sizes{i}')
            if sizes is None or label_sizes is None or sizes.size > 10 * n + 10:
                return Verdict(0.0, "generate_batched_data() returned no batches")
            sizes = [int(v) for v in np.atleast_1d(sizes).ravel()]
            label_sizes = [int(v) for v in np.atleast_1d(label_sizes).ravel()]
            if sizes != label_sizes:
                return Verdict(0.0, f"data batches of sizes {_shown(sizes)} but label batches "
                                    f"of sizes {_shown(label_sizes)}")
            if not self.p['sizes']:
                pass  # the examples are judged below; their batch sizes by another test
            elif 0 in sizes:
                return Verdict(0.0, f"batch {sizes.index(0) + 1} of {len(sizes)} is empty: "
                                    f"{n} examples in batches of {size} make "
                                    f"{len(expected)} batches")
            elif sizes != expected:
                return Verdict(0.0, f"{n} examples in batches of {size}: batch sizes "
                                    f"{_shown(sizes)}, expected {_shown(expected)} (every "
                                    f"batch full but the last, which keeps the rest)")
            label, data = arrays.get(f'label{i}'), arrays.get(f'data{i}')
            if label is None or data is None or label.ndim != 1 or data.ndim != 2 or \
                    data.shape != (len(label), 3) or len(label) > 10 * n + 10:
                return Verdict(0.0, "the batches do not hold the examples")
            held = label.tolist()
            # Examples dropped or repeated are the batch-size test's (one defect,
            # one test); here the examples that are there must be right.
            if self.p['sizes'] and sorted(held) != list(range(n)):
                return Verdict(0.0, "the batches repeat or drop examples")
            if len(set(held)) != len(held) or not set(held) <= set(range(n)):
                return Verdict(0.0, "the batches repeat examples, or hold examples that were "
                                    "not given")
            if len(held) < n // 2:
                return Verdict(0.0, f"the batches hold only {len(held)} of the {n} examples")
            if not (np.array_equal(data[:, 0], label)
                    and np.array_equal(data[:, 1], 2 * label + 1)):
                return Verdict(0.0, "data and labels are no longer paired after batching "
                                    "(shuffle both with the same permutation)")
            if not call['shuffle'] and not self.p['sizes'] and held != sorted(held):
                # (judged where sizes are not: one defect, one test)
                return Verdict(0.0, "without shuffle the examples must keep their order")
            orders.append((call, label))
        shuffled = [(c['seed'], o) for c, o in orders if c['shuffle']]
        for seed, order in shuffled:
            if order.tolist() == sorted(order.tolist()):
                return Verdict(0.0, f"shuffle=True with seed={seed} left the examples in order")
            for other_seed, other in shuffled:
                if order.shape != other.shape or seed is None or other_seed is None:
                    continue  # seed=None: a fresh order, compared with nothing
                if other_seed == seed and not np.array_equal(order, other):
                    return Verdict(0.0, f"two calls with seed={seed} gave different orders: "
                                        f"the same seed must give the same order")
                if other_seed != seed and np.array_equal(order, other):
                    return Verdict(0.0, f"seeds {seed} and {other_seed} gave the same order")
        return Verdict(1.0, "batching is correct")


def _shown(sizes, limit=12):
    if len(sizes) <= limit:
        return str(sizes)
    return str(sizes[:limit])[:-1] + f", ... ({len(sizes)} batches)]"
