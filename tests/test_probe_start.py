"""What a sandboxed run does before its first request: the font cache it is given."""
import sys

from helpers import KIT

sys.path.insert(0, str(KIT / 'autograder' / 'grading'))
import probes  # noqa: E402  (the sandbox's file, imported as a plain module)


def test_the_font_cache_is_copied_where_matplotlib_looks(tmp_path, monkeypatch):
    cache, config = tmp_path / 'cache', tmp_path / 'home' / '.matplotlib'
    cache.mkdir()
    (cache / 'fontlist-v390.json').write_text('{"fonts": []}')
    monkeypatch.setenv('PROBE_MPL_CACHE', str(cache))
    monkeypatch.setenv('MPLCONFIGDIR', str(config))
    probes._matplotlib_font_cache()
    assert (config / 'fontlist-v390.json').read_text() == '{"fonts": []}'


def test_a_cache_that_cannot_be_copied_costs_time_not_the_run(tmp_path, monkeypatch):
    blocked = tmp_path / 'a-file'
    blocked.write_text('not a folder')
    monkeypatch.setenv('MPLCONFIGDIR', str(blocked))
    for cache in (tmp_path / 'missing', tmp_path):  # no cache; a config path that is a file
        monkeypatch.setenv('PROBE_MPL_CACHE', str(cache))
        probes._matplotlib_font_cache()  # returns: matplotlib builds its own list
    assert blocked.read_text() == 'not a folder'
