"""The one way the kit writes HTML: Jinja2 templates with autoescaping.

Every page (the class report, the similarity report, the mutation report)
extends templates/base.html: one style sheet, a Content-Security-Policy that
lets the page load nothing but its own figures and run nothing but the
figure check below, and that check, which counts the images that really
loaded (a headless browser in the kit's tests reads it). Student ids, file
names and reasons are untrusted: autoescaping shows them as text.
"""
import base64
import hashlib
from functools import lru_cache

from . import paths

# Counts the figures that really loaded, so a glance (or a headless browser in
# the kit's tests) tells whether the PNGs are where the page expects them.
FIGURE_CHECK = """
window.addEventListener('load', function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { loaded++; }
  }
  var out = document.getElementById('images-loaded');
  out.textContent = loaded + ' of ' + images.length;
  out.setAttribute('data-loaded', String(loaded));
  out.setAttribute('data-total', String(images.length));
  if (loaded < images.length) { out.style.color = '#b00020'; }
});
"""


@lru_cache(maxsize=1)
def environment():
    try:
        import jinja2
    except ImportError:
        raise RuntimeError("the kit's HTML pages need Jinja2: pip install jinja2 (it comes with "
                           "the [instructor] extra)") from None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(paths.TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters['pct'] = lambda v: '' if v is None else f"{v:.1f}%"
    env.filters['num'] = lambda v: '' if v is None else f"{v:g}"
    env.filters['duration'] = duration
    return env


def duration(seconds):
    if seconds is None:
        return ''
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def render(template, **context):
    """The page's HTML from templates/<template> and the context."""
    script_hash = base64.b64encode(hashlib.sha256(FIGURE_CHECK.encode()).digest()).decode()
    return environment().get_template(template).render(
        figure_check=FIGURE_CHECK, script_hash=script_hash, **context)
