"""Read and check the YAML training configs in configs/.

A config has exactly two sections:

    Train:
      batch_size: 64        # examples per SGD step, int >= 1
      learning_rate: 0.1    # SGD step size, > 0
      reg: 0.001            # L2 strength, >= 0
      epochs: 10            # passes over the training set, int >= 1
      debug: true           # progress bars when run interactively
    Model:
      type: TwoLayerNet     # or SoftmaxRegression
      hidden_size: 128      # TwoLayerNet only

Every key is required and every key is used; an unknown, misspelled or
missing one is an error that names the valid keys.
"""
import difflib
from pathlib import Path

import yaml

MODEL_TYPES = ('SoftmaxRegression', 'TwoLayerNet')


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _positive_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _non_negative_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


# section -> key -> (check, what a valid value is)
SCHEMA = {
    'Train': {
        'batch_size': (_positive_int, 'an integer >= 1'),
        'learning_rate': (_positive_number, 'a number > 0'),
        'reg': (_non_negative_number, 'a number >= 0'),
        'epochs': (_positive_int, 'an integer >= 1'),
        'debug': (lambda v: isinstance(v, bool), 'true or false'),
    },
    'Model': {
        'type': (lambda v: v in MODEL_TYPES, 'one of ' + ', '.join(MODEL_TYPES)),
        'hidden_size': (_positive_int, 'an integer >= 1'),
    },
}
# Keys a model type does not use must not be in its config.
_MODEL_KEYS = {'SoftmaxRegression': {'type'}, 'TwoLayerNet': {'type', 'hidden_size'}}


class ConfigError(ValueError):
    """A config file that cannot be used, with the reason in its message."""


def _unknown(name, valid, where):
    hint = difflib.get_close_matches(name, valid, n=1)
    guess = f" (did you mean '{hint[0]}'?)" if hint else ""
    return ConfigError(f"{where}: unknown {name!r}{guess}; valid: {', '.join(valid)}")


def validate_config(config, where='config'):
    """Check a config mapping; return it unchanged or raise ConfigError.

    Args:
        config: dict with the sections 'Train' and 'Model'.
        where: how to name the config in error messages (e.g. its path).
    """
    if not isinstance(config, dict):
        raise ConfigError(f"{where}: expected sections {', '.join(SCHEMA)}, "
                          f"got {type(config).__name__}")
    for section in config:
        if section not in SCHEMA:
            raise _unknown(section, list(SCHEMA), f"{where}: section")
    for section, keys in SCHEMA.items():
        values = config.get(section)
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: section {section!r} is missing or not a mapping; "
                              f"it needs {', '.join(keys)}")
        wanted = list(keys)
        if section == 'Model':
            wanted = [k for k in keys if k in _MODEL_KEYS.get(values.get('type'), keys)]
        for key in values:
            if key in keys and key not in wanted:
                raise ConfigError(f"{where}: {section}.{key} is not used by "
                                  f"{values.get('type')}; remove it")
            if key not in wanted:
                raise _unknown(key, wanted, f"{where}: {section}")
        missing = [k for k in wanted if k not in values]
        if missing:
            raise ConfigError(f"{where}: {section} is missing {', '.join(missing)}")
        for key in wanted:
            check, expected = keys[key]
            if not check(values[key]):
                raise ConfigError(f"{where}: {section}.{key} must be {expected}, "
                                  f"got {values[key]!r}")
    return config


def load_config(path):
    """Read a YAML config file and check it.

    Returns:
        dict: {'Train': {...}, 'Model': {...}} exactly as in the file.

    Raises:
        ConfigError: the file is not valid YAML or breaks a rule of SCHEMA.
        FileNotFoundError: no file at `path`.
    """
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        # One line: the file, the line and column of the problem, and what it is.
        mark = getattr(err, 'problem_mark', None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, 'problem', None) or ' '.join(str(err).split())
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None
    return validate_config(config, str(path))
