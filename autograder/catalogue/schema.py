"""Checking a test's declaration in the rubric: typed parameters with clear errors.

Each kind of test lists its parameters as Param(check, default, doc); the
rubric loader passes every value through its check, so a typo, a wrong type
or a missing threshold is an error naming the test and the key, never a
surprise at grading time.
"""
import difflib

REQUIRED = object()


class RubricError(ValueError):
    """A rubric that cannot be used, with the reason."""


class Param:
    """One parameter of a kind of test: how to check it, its default, what it means."""

    def __init__(self, check, default=REQUIRED, doc=''):
        self.check, self.default, self.doc = check, default, doc


def unknown(key, valid, where):
    hint = difflib.get_close_matches(str(key), [str(v) for v in valid], n=1)
    guess = f" (did you mean {hint[0]!r}?)" if hint else ""
    return RubricError(f"{where}: unknown {key!r}{guess}; valid: {', '.join(sorted(valid))}")


def number(minimum=None, maximum=None, above=None):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, got {value!r}")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be >= {minimum}, got {value!r}")
        if above is not None and value <= above:
            raise ValueError(f"must be > {above}, got {value!r}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be <= {maximum}, got {value!r}")
        return float(value)
    return check


def integer(minimum=None, maximum=None):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be >= {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be <= {maximum}, got {value!r}")
        return value
    return check


def text(value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty text, got {value!r}")
    return value


def boolean(value):
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def choice(*options):
    def check(value):
        if value not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options))}, got {value!r}")
        return value
    return check


def span(item):
    """[low, high] with low <= high, each passing `item`."""
    def check(value):
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"must be [low, high], got {value!r}")
        low, high = item(value[0]), item(value[1])
        if low > high:
            raise ValueError(f"[low, high] must have low <= high, got {value!r}")
        return (low, high)
    return check


def listing(item, minimum=0):
    def check(value):
        if not isinstance(value, list) or len(value) < minimum:
            raise ValueError(f"must be a list of at least {minimum}, got {value!r}")
        return tuple(item(v) for v in value)
    return check


def mapping(schema):
    """A mapping whose keys are those of `schema` (a dict of Param)."""
    def check(value):
        if not isinstance(value, dict):
            raise ValueError(f"must be a mapping with {', '.join(schema)}, got {value!r}")
        return parse(value, schema, 'this mapping')
    return check


def parse(values, schema, where):
    """Check a mapping against {key: Param}; return the checked values with defaults filled.

    Raises:
        RubricError: an unknown key (with the closest valid one), a missing
            required key, or a value its Param rejects.
    """
    for key in values:
        if key not in schema:
            raise unknown(key, schema, where)
    out = {}
    for key, param in schema.items():
        if key not in values:
            if param.default is REQUIRED:
                raise RubricError(f"{where}: missing {key!r} ({param.doc})")
            out[key] = param.default
            continue
        try:
            out[key] = param.check(values[key])
        except RubricError as err:
            raise RubricError(f"{where}: {key}: {err}") from None
        except (ValueError, TypeError) as err:
            raise RubricError(f"{where}: {key} {err}") from None
    return out
