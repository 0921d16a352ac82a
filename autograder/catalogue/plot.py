"""Kind 'plot': plot_curves draws the loss and the accuracy, training against validation.

    kind: plot
    epochs: 6                  # length of the hidden histories
    min_pixels: [200, 100]     # the smallest saved PNG accepted (width, height)

Both APIs are judged the same way: this kit's (one figure with two panels,
saved to save_path and returned) and the course's (two pyplot figures, no
save_path, nothing returned), each where it was written to run: pyplot
behaves as in a notebook (probes.probe_plot). The probe captures every figure
through matplotlib and renders each one; the judge decodes those images
(bounded, below) and requires, in some panel, both loss curves and, in
another, both accuracy curves, with drawn content where the description
says the panel is. Axis labels and legends are required where the
scaffold asks for them ('plot_labels': the kit's stubs do, the course's
skeleton does not); elsewhere a missing one is a note. A label on the
outer panel of panels sharing an axis (sharex=True) counts for all of
them. When the function takes save_path, the file it saved must be a real
PNG image of at least min_pixels, and a second call with save_path=None must
draw without raising and save nothing.
"""
import io
import struct

import numpy as np

from . import schema as s
from .kind import UTILS, Kind
from .types import Request, Verdict

MAX_SIDE, MAX_PIXELS = 4096, 4 * 2**20


def decode_png(data):
    """An (H, W, 4) uint8 RGBA array from PNG bytes, or None if they are not a usable PNG.

    The header is read here first, so an image that declares more than
    MAX_PIXELS is refused before anything is inflated; Pillow (installed with
    matplotlib) then decodes it.
    """
    data = bytes(data)
    if len(data) < 33 or data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
        return None
    width, height = struct.unpack('>II', data[16:24])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS):
        return None
    try:
        from PIL import Image
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        with Image.open(io.BytesIO(data)) as image:
            if image.format != 'PNG' or image.size != (width, height):
                return None
            return np.asarray(image.convert('RGBA'))
    except Exception:  # any decoding failure of untrusted bytes
        return None


def drawn_pixels(image, box=None):
    """Pixels that differ from the region's most common colour (inset 3 px from its edge)."""
    if box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        image = image[max(y0 + 3, 0):max(y1 - 3, 0), max(x0 + 3, 0):max(x1 - 3, 0)]
    if image.size == 0:
        return 0
    flat = image.reshape(-1, image.shape[-1]).astype(np.int16)
    # Each colour as one integer, channels big-endian, so the codes sort as
    # the rows do: np.unique(flat, axis=0) gave the same answer, ties included,
    # and took half a second of the judge's CPU per grading.
    weights = 256 ** np.arange(flat.shape[1] - 1, -1, -1, dtype=np.int64)
    values, counts = np.unique(flat @ weights, return_counts=True)
    background = (values[np.argmax(counts)] // weights) % 256
    return int(np.count_nonzero(np.abs(flat - background).max(axis=1) > 40))


def _text(description, key):
    value = description.get(key)
    return isinstance(value, str) and bool(value.strip())


def _strings(value):
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class Plot(Kind):
    name = 'plot'
    reads = ('utils.py',)
    uses_reference = False
    PARAMS = {
        'epochs': s.Param(s.integer(2, 100), doc="length of the hidden histories"),
        'min_pixels': s.Param(s.listing(s.integer(1), 2), doc="smallest saved PNG (w, h)"),
    }

    def needs(self):
        return (UTILS,)

    def _history(self, ctx):
        rng, epochs = ctx.rng(self.id), self.p['epochs']
        return {'train_loss': np.sort(rng.uniform(0.2, 2.0, epochs))[::-1],
                'train_acc': np.sort(rng.uniform(0.3, 0.95, epochs)),
                'valid_loss': np.sort(rng.uniform(0.25, 2.1, epochs))[::-1],
                'valid_acc': np.sort(rng.uniform(0.3, 0.9, epochs))}

    def requests(self, ctx):
        return [Request('plot', {}, self._history(ctx), answer_bytes=24 * 2**20)]

    def _panels(self, meta, arrays):
        """(figure index, axes index, description) of every panel, bounded."""
        figures = meta.get('figures') if isinstance(meta.get('figures'), list) else []
        panels = []
        for f, figure in enumerate(figures[:8]):
            axes = figure.get('axes') if isinstance(figure, dict) else None
            for a, ax in enumerate(axes[:8] if isinstance(axes, list) else []):
                if isinstance(ax, dict):
                    panels.append((f, a, ax))
        return panels

    def check(self, got, ref, ctx):
        meta, arrays = got[0].meta, got[0].arrays
        panels = self._panels(meta, arrays)
        if not panels:
            return Verdict(0.0, "plot_curves drew no figure (no matplotlib axes were found)")
        history = self._history(ctx)
        images, used = {}, {}
        problems, style = [], []
        for name, key in (('loss', 'loss'), ('accuracy', 'acc')):
            curves = (history['train_' + key], history['valid_' + key])
            found = None
            for f, a, ax in panels:
                lines = [arrays.get(f'y{f}_{a}_{j}') for j in range(16)]
                shown = [any(line is not None and line.shape == curve.shape
                             and np.allclose(line, curve) for line in lines) for curve in curves]
                if all(shown):
                    found = (f, a, ax)
                    break
            if found is None:
                problems.append(f"no panel shows both the training and the validation {name}")
                continue
            f, a, ax = found
            used[name] = (f, a)
            missing = [axis for axis in ('x', 'y') if not (_text(ax, f'{axis}label')
                                                          or _text(ax, f'shared_{axis}label'))]
            if missing:
                style.append(f"the {name} panel has no {' or '.join(missing)} axis label")
            if ax.get('legend') is not True:
                style.append(f"the {name} panel has no legend")
            if f not in images:
                images[f] = decode_png(arrays.get(f'png{f}', np.zeros(0)).astype(np.uint8))
            box = ax.get('box')
            if images[f] is None:
                problems.append(f"the {name} figure could not be rendered")
            elif not (isinstance(box, list) and len(box) == 4
                      and all(isinstance(v, (int, float)) for v in box)
                      and drawn_pixels(images[f], box) >= 20):
                problems.append(f"the {name} panel shows nothing where its curves should be")
        if len(used) == 2 and used['loss'] == used['accuracy']:
            problems.append("the loss and the accuracy share one panel; draw them in two")
        if meta.get('takes_save_path') is True:
            saved = arrays.get('saved')
            image = None if saved is None else decode_png(saved.astype(np.uint8))
            width, height = self.p['min_pixels']
            if saved is None:
                problems.append("no file was saved at save_path")
            elif image is None:
                problems.append("the file saved at save_path is not a PNG image")
            elif image.shape[1] < width or image.shape[0] < height or drawn_pixels(image) < 100:
                problems.append(f"the PNG saved at save_path is {image.shape[1]}x"
                                f"{image.shape[0]} pixels or blank; expected the figure "
                                f"(at least {width}x{height})")
            if isinstance(meta.get('none_error'), str):
                problems.append(f"plot_curves(..., save_path=None) raised "
                                f"{meta['none_error'][:200]}: None means draw the figure "
                                f"and save nothing")
            elif isinstance(meta.get('none_saved'), list) and meta['none_saved']:
                problems.append("plot_curves(..., save_path=None) saved a file: None means "
                                "save nothing")
        if ctx.stated('plot_labels'):
            problems += [f"{line}: label both axes and add a legend" for line in style]
            style = []
        message = '; '.join(problems) or "the learning curves are plotted correctly"
        notes = style + [f"a figure could not be saved ({str(e)[:120]}); saving is not judged"
                         for e in _strings(meta.get('save_errors'))[:2]]
        if notes and not problems:
            message += f" (note: {'; '.join(notes)}; a reader needs axis labels and a legend " \
                       f"to tell the curves apart)" if style else f" (note: {'; '.join(notes)})"
        return Verdict(0.0 if problems else 1.0, message)
