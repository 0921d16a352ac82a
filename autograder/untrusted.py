"""Text that students control, made safe to show: on a terminal, in CSV, in lists.

File names, exception messages and anything else a submission decides can
hold escape sequences (which redraw a terminal), CSV formulas (which a
spreadsheet runs), bytes that are not UTF-8, or a million entries. Every place
that shows such text passes it through one of these functions.
"""
import re

# C0 and C1 control characters except tab and newline, DEL, and the
# bidirectional overrides that make text read differently than it is stored.
_CONTROL = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]')
_CONTROL_ALL = re.compile('[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]')
# What a spreadsheet reads as the start of a formula (OWASP's list).
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')


def printable(text, limit=None, newlines=True):
    """`text` with control characters replaced by '?' (or shown as \\xNN), capped.

    Args:
        text: any object; str() of it is used. Lone surrogates (from file
            names that are not UTF-8) are shown as \\udcNN escapes.
        limit: at most this many characters, ' ...' marking a cut.
        newlines: keep newlines (False turns them into spaces too).
    """
    text = '' if text is None else str(text)
    text = text.encode('utf-8', 'backslashreplace').decode('utf-8')
    pattern = _CONTROL if newlines else _CONTROL_ALL
    text = pattern.sub(lambda m: f'\\x{ord(m.group()):02x}' if ord(m.group()) < 256
                       else f'\\u{ord(m.group()):04x}', text)
    if limit is not None and len(text) > limit:
        text = text[:max(limit - 4, 0)] + ' ...'
    return text


def name(path_text, limit=120):
    """A file or student name for one line of output: printable, no newlines, capped."""
    return printable(path_text, limit=limit, newlines=False)


def csv_cell(value):
    """A CSV cell that a spreadsheet shows as text, never evaluates.

    Text starting with = + - @ (or a tab or carriage return) is prefixed with
    a quote, as OWASP recommends; numbers pass unchanged (a negative score
    stays a number).
    """
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return '' if value is None else value
    text = printable(value, newlines=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


def capped(items, limit=20, what='more'):
    """The first `limit` items as strings, and one line counting the rest."""
    items = list(items)
    shown = [str(item) for item in items[:limit]]
    if len(items) > limit:
        shown.append(f"... and {len(items) - limit} {what}")
    return shown


# A student's exception message may carry the hidden inputs it was given
# (print an array, raise with it): keep words, shapes and small integers,
# drop the numbers that make up array contents.
_BRACKETED = re.compile(r'\[[^\[\]]*\d[^\[\]]*\]')
_DECIMAL = re.compile(r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)|[-+]?(?:\d+\.\d+|\.\d+)')
_LONG_INT = re.compile(r'\d{5,}')


def scrub_message(text, limit=300):
    """An exception message fit to echo to a student: array contents removed, capped.

    Bracketed lists of numbers, decimal numbers and long integers become
    '...'; words, shapes such as (7, 11) and small integers stay, so
    "shapes (7,11) and (5,3) not aligned" still reads as it should.
    """
    text = printable(text, newlines=False)
    for _ in range(3):  # nested brackets, innermost first
        text = _BRACKETED.sub('[...]', text)
    text = _DECIMAL.sub('...', text)
    text = _LONG_INT.sub('...', text)
    return printable(text, limit=limit, newlines=False)
