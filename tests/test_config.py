"""Config files: the shipped ones load; mistakes get errors that name the fix."""
import pytest

from config import ConfigError, load_config, validate_config
from helpers import SOLUTIONS

GOOD = {'Train': {'batch_size': 64, 'learning_rate': 0.1, 'reg': 0.001, 'epochs': 10,
                  'debug': True},
        'Model': {'type': 'TwoLayerNet', 'hidden_size': 128}}


def with_change(section, key, value=None, delete=False):
    config = {s: dict(v) for s, v in GOOD.items()}
    if delete:
        del config[section][key]
    else:
        config[section][key] = value
    return config


@pytest.mark.parametrize('name', ['config_softmax.yaml', 'config_twolayer.yaml',
                                  'config_exp.yaml'])
def test_shipped_configs_load(name):
    config = load_config(SOLUTIONS / 'configs' / name)
    assert config['Train']['batch_size'] == 64 and config['Train']['learning_rate'] == 0.1
    assert config['Train']['reg'] == 0.001 and config['Train']['epochs'] == 10


def test_misspelled_key_names_the_valid_ones():
    config = with_change('Train', 'learning_rte', 0.1)
    del config['Train']['learning_rate']
    with pytest.raises(ConfigError) as err:
        validate_config(config, 'c.yaml')
    message = str(err.value)
    assert "unknown 'learning_rte'" in message and "did you mean 'learning_rate'" in message
    assert 'batch_size, learning_rate, reg, epochs, debug' in message


def test_unknown_section():
    with pytest.raises(ConfigError, match=r"section: unknown 'Optim'.*valid: Train, Model"):
        validate_config(dict(GOOD, Optim={}))


@pytest.mark.parametrize('section, key, value, message', [
    ('Train', 'batch_size', 0, 'batch_size must be an integer >= 1'),
    ('Train', 'batch_size', 6.4, 'batch_size must be an integer >= 1'),
    ('Train', 'learning_rate', -1, 'learning_rate must be a number > 0'),
    ('Train', 'debug', 'yes please', 'debug must be true or false'),
    ('Model', 'type', 'ThreeLayerNet', 'type must be one of SoftmaxRegression, TwoLayerNet'),
])
def test_bad_values(section, key, value, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(with_change(section, key, value))


def test_missing_key_and_unused_key():
    with pytest.raises(ConfigError, match='Train is missing epochs'):
        validate_config(with_change('Train', 'epochs', delete=True))
    softmax = with_change('Model', 'type', 'SoftmaxRegression')
    with pytest.raises(ConfigError, match='hidden_size is not used by SoftmaxRegression'):
        validate_config(softmax)


def test_invalid_yaml(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('Train: [unclosed\n')
    with pytest.raises(ConfigError, match='not valid YAML'):
        load_config(path)
