"""`autograder similarity` end to end: a disguised copy is flagged and nothing else is; the
report says which files carry the match and shows it side by side; stubs, broken zips, code
hidden behind exec or a UTF-7 cookie, --scaffold and --against."""
import base64
import csv
import json
import shutil
import sys
import zipfile
import zlib

import pytest

from autograder.cli import build_parser, main
from autograder.course import similarity
from helpers import KIT, STUDENT

sys.path.insert(0, str(KIT / 'tests' / 'corpus' / 'similarity'))
import disguise  # noqa: E402
import kit_members  # noqa: E402

EVIL = '<img src=x onerror=alert(1)>'
SUBMITTED_PY = [rel for rel in kit_members.submitted_files() if rel.endswith('.py')]


def stub_copy(folder):
    """A submission of the untouched student stubs."""
    for rel in kit_members.submitted_files():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STUDENT / rel, folder / rel)
    return folder


def zipped(folder, target):
    with zipfile.ZipFile(target, 'w', zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob('*')):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    shutil.rmtree(folder)
    return target


def cli(*argv):
    """`autograder similarity ARGV`, as the command runs it: its exit status."""
    return main(['similarity', *map(str, argv)])


@pytest.fixture(scope='module')
def class_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('similarity')
    subs = root / 'submissions'
    work = root / 'work'
    for student in kit_members.STUDENTS:
        kit_members.write(subs / student, student)
    # zoe hands in ben's code renamed, stripped, reordered and respaced
    kit_members.write(work / 'ben', 'ben')
    disguise.disguise('all', work / 'ben', subs / 'zoe', seed=5)
    shutil.copytree(KIT / 'solutions', subs / 'ref', ignore=shutil.ignore_patterns(
        'tests', '*.ipynb', '__pycache__'))
    zipped(subs / 'chloe', subs / 'chloe.zip')  # zips and folders alike
    stub_copy(subs / 'stub1')
    zipped(stub_copy(subs / 'stub2'), subs / 'stub2.zip')
    (subs / f'{EVIL}.zip').write_bytes(b'this is not a zip file')
    (subs / 'nothing').mkdir()  # an empty folder
    (subs / '.DS_Store').write_bytes(b'\0\0\0\1Bud1')  # not a submission, but listed
    return root


@pytest.fixture(scope='module')
def report(class_folder):
    out = class_folder / 'report'
    assert cli(class_folder / 'submissions', '--out', out, '-q') == 0
    return out


def load(report):
    return json.loads((report / 'similarity.json').read_text())


def test_the_disguised_copy_is_flagged_and_nothing_else(report):
    data = load(report)
    pairs = data['pairs']
    assert {pairs[0]['a'], pairs[0]['b']} == {'ben', 'zoe'}
    assert pairs[0]['similarity'] >= 0.9 and pairs[0]['flagged']
    assert data['flagged'] == 1
    others = [p['similarity'] for p in pairs[1:]]
    assert max(others, default=0) <= 0.3, pairs[1:4]  # independent work stays far below
    assert data['pair_count'] == 9 * 8 // 2  # every readable submission against every other


def test_the_report_says_which_files_carry_the_match(report):
    pair = load(report)['pairs'][0]
    files = {side: {row['file']: row for row in pair['files'][side]} for side in ('a', 'b')}
    for side in ('a', 'b'):
        assert {'models/two_layer_nn.py', 'models/_base_network.py', 'utils.py'} <= \
            set(files[side]), files[side].keys()
        for rel, row in files[side].items():
            assert row['share'] > 0.5 and row['carried_by'][0]['file'] == rel, row
    assert pair['a_file'] and pair['a_file_share'] >= 0.9


def test_untouched_stubs_share_nothing(report):
    with open(report / 'similarity.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert not [r for r in rows if {'stub1', 'stub2'} & {r['a'], r['b']}]  # nothing above 0
    status = {s['id']: s['status'] for s in load(report)['submissions']}
    assert status['stub1'] == status['stub2'] == 'nothing own'
    assert status['ben'] == status['chloe'] == 'compared'


def test_unreadable_and_empty_submissions_are_reported(report):
    data = load(report)
    by_id = {s['id']: s for s in data['submissions']}
    assert by_id[EVIL]['status'] == 'unreadable'
    assert 'not a readable zip' in by_id[EVIL]['problems'][0]
    assert by_id['nothing']['status'] == 'empty'
    assert '.DS_Store: hidden, not graded' in data['problems']  # listed, never read
    page = (report / 'index.html').read_text()
    assert EVIL not in page and '&lt;img src=x onerror=alert(1)&gt;' in page
    assert 'not a readable zip' in page and 'nothing' in page


def test_the_report_shows_the_copied_regions_side_by_side(report):
    page = (report / 'index.html').read_text()
    assert 'id="pair-1"' in page and page.count('class="pair"') == 1
    section = page[page.index('id="pair-1"'):]
    assert section.count('<mark class="hl-a">') >= 5 and section.count('<mark class="hl-b">') >= 5
    renamed = [line for line in (report.parent / 'submissions' / 'zoe' / 'models' /
                                 'two_layer_nn.py').read_text().split() if '_' in line]
    assert 'g2' in section and any(word in section for word in renamed)  # each its own names
    assert 'http' not in page.replace('http-equiv', '')  # opens offline, nothing fetched
    assert 'common to the class' in page and 'docs/similarity.md' in page


def test_code_hidden_as_a_decoded_string_is_flagged_and_still_compared(class_folder, tmp_path):
    """The copy of ben wrapped in exec(zlib.decompress(base64...)) matches ben all the same."""
    subs = tmp_path / 'subs'
    for student in ('ben', 'ana', 'dev'):
        kit_members.write(subs / student, student)
    hidden = kit_members.write(subs / 'hider', 'ben')
    for rel in ('models/two_layer_nn.py', 'models/_base_network.py', 'utils.py'):
        source = (hidden / rel).read_text()
        blob = base64.b64encode(zlib.compress(source.encode())).decode()
        (hidden / rel).write_text("import base64, zlib\n"
                                  f"exec(zlib.decompress(base64.b64decode('{blob}')).decode())\n")
    result = similarity.compare(subs)
    entries = {e.id: e for e in result.entries}
    assert any('exec' in use for use in entries['hider'].runtime_code)
    pair = next(p for p in result.pairs if {p.a, p.b} == {'ben', 'hider'})
    assert pair.flagged and pair.similarity >= 0.9
    assert not [p for p in result.pairs if p.flagged and p is not pair]
    written = similarity.write_report(result, tmp_path / 'out')
    assert 'Code built at run time' in written['html'].read_text()


def test_redteam_code_behind_a_utf7_cookie_is_compared(tmp_path):
    """Issue #27: a copy hidden behind `# -*- coding: utf-7 -*-` is still flagged.

    To a reader that assumes UTF-8 each file is one comment line; Python
    decodes it (PEP 263) and runs the copied code.
    """
    subs = tmp_path / 'subs'
    for student in ('ben', 'ana', 'eli'):
        kit_members.write(subs / student, student)
    copy = disguise.disguise('utf7', subs / 'ben', subs / 'sneaky')
    data = (copy / 'models' / 'two_layer_nn.py').read_bytes()
    assert data.count(b'\n') == 2 and b'class TwoLayerNet' in data  # one comment to UTF-8
    result = similarity.compare(subs)
    pair = next(p for p in result.pairs if {p.a, p.b} == {'ben', 'sneaky'})
    assert pair.flagged and pair.similarity >= 0.95, pair
    problems = next(e for e in result.entries if e.id == 'sneaky').problems
    assert any('utf-7' in p for p in problems)  # and the report says how it was written


def test_a_scaffold_folder_is_left_out(tmp_path):
    """Code a course hands out is not shared work once --scaffold names it."""
    given = ("def load_csv(path):\n"
             "    data, labels = [], []\n"
             "    with open(path, encoding='utf-8') as handle:\n"
             "        for line in handle.read().splitlines():\n"
             "            fields = line.rstrip().split(',')\n"
             "            labels.append(int(fields[0]))\n"
             "            data.append([int(v) / 255 for v in fields[1:]])\n"
             "    return data, labels\n\n\n")
    skeleton = tmp_path / 'skeleton'
    (skeleton / 'helpers').mkdir(parents=True)
    (skeleton / 'helpers' / 'given.py').write_text(given)
    subs = tmp_path / 'subs'
    for student in ('ana', 'ben'):
        folder = kit_members.write(subs / student, student)
        utils = folder / 'utils.py'
        utils.write_text(given + utils.read_text())
    plain = similarity.compare(subs).pairs
    left_out = similarity.compare(subs, scaffolds=[skeleton])
    assert plain and plain[0].matched >= 40, plain  # the given function, shared
    # what is left is the little the two share anyway (the forward's last lines), if any
    left = left_out.pairs[0].matched if left_out.pairs else 0
    assert left <= plain[0].matched - 30, left_out.pairs
    assert str(skeleton) in [folder for folder, _ in left_out.scaffold]


def test_against_an_archive(tmp_path):
    """This class against earlier terms: the report names the archive entry; never archive
    with archive."""
    subs, old = tmp_path / 'subs', tmp_path / 'fall2024'
    for student in ('ana', 'chloe', 'dev'):
        kit_members.write(subs / student, student)
    kit_members.write(old / 'ben-2024', 'ben')
    kit_members.write(old / 'ben-2024-again', 'ben')  # twins in the archive: not reported
    kit_members.write(old / 'eli-2024', 'eli')
    disguise.disguise('rename', old / 'ben-2024', subs / 'newcomer', seed=1)
    out = tmp_path / 'out'
    assert cli(subs, '--out', out, '--against', old, '-q') == 0
    data = load(out)
    flagged = [p for p in data['pairs'] if p['flagged']]
    assert {(p['a'], p['b']) for p in flagged} == {('newcomer', 'fall2024/ben-2024'),
                                                    ('newcomer', 'fall2024/ben-2024-again')}
    assert all(p['archive'] == 'fall2024' for p in flagged)
    assert not [p for p in data['pairs'] if p['a'].startswith('fall2024/')]  # b is the archive
    entries = {s['id']: s for s in data['submissions']}
    assert entries['fall2024/eli-2024']['archive'] == 'fall2024'
    assert data['pair_count'] == 4 * 3 // 2 + 4 * 3  # class pairs + class x archive
    page = (out / 'index.html').read_text()
    assert 'archive fall2024' in page and 'never with each other' in page


def test_command_line(tmp_path, capsys):
    subs = tmp_path / 'subs'
    kit_members.write(subs / 'ana', 'ana')
    assert cli(tmp_path / 'missing', '--out', tmp_path / 'o') == 2
    assert 'is not a folder' in capsys.readouterr().err
    assert cli(subs, '--out', tmp_path / 'o', '--scaffold', tmp_path / 'nope') == 2
    assert '--scaffold' in capsys.readouterr().err
    assert cli(subs, '--out', tmp_path / 'o', '--against', tmp_path / 'nope') == 2
    assert '--against' in capsys.readouterr().err
    (tmp_path / 'file').write_text('x')
    assert cli(subs, '--out', tmp_path / 'file') == 2
    assert cli(subs, '--out', tmp_path / 'o') == 0
    captured = capsys.readouterr()
    assert '1 submissions; 0 pairs compared' in captured.out and 'report:' in captured.out
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(['similarity', str(tmp_path), '--threshold', '1.5'])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(['similarity', '--help'])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert '--threshold' in text and '--scaffold' in text and '--against' in text
