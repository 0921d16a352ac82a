"""Disguised copies of a submission, the ways a copier hides one, for the similarity tests.

    python tests/corpus/similarity/disguise.py KIND SOURCE OUT [--seed N]
    python tests/corpus/similarity/disguise.py transplant SOURCE OUT --into OWN [--file REL]

KIND is one of:
  rename      every name a function binds (locals, loop variables, helpers'
              parameters, nested functions) renamed consistently
  strip       comments and docstrings dropped
  reorder     the functions of each module and the methods of each class reordered
  respace     indentation width, spacing inside lines, blank lines and line
              breaks inside brackets changed
  all         rename, strip, reorder and respace together
  utf7        every .py file behind a `# -*- coding: utf-7 -*-` cookie, its
              line breaks written as UTF-7 (`+AAo-`) so that to a UTF-8
              reader the whole file is one comment; Python runs it unchanged
  transplant  OUT is a copy of the submission OWN (--into) with one file
              (--file, default the largest .py file) taken from SOURCE

SOURCE and OUT are package folders (models/, optimizer/, utils.py ...). Every
file written is checked to compile; a transformation that would break the
program raises instead. Nothing here runs the code.
"""
import argparse
import ast
import builtins
import io
import keyword
import random
import re
import shutil
import sys
import tokenize
from pathlib import Path

KINDS = ('rename', 'strip', 'reorder', 'respace', 'all', 'utf7', 'transplant')
MAX_SUBMITTED_FILE = 64 * 2**10  # the grader's per-file limit (submission_files.txt)


def _check(text, what):
    compile(text, what, 'exec')
    return text


# -- strip -------------------------------------------------------------------------

def strip(text):
    """`text` without comments and without statements that are only a string."""
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.split('\n')
    for tok in reversed(tokens):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col].rstrip()
    text = '\n'.join(lines)
    tree = ast.parse(text)
    drop, fill = set(), {}
    for node in ast.walk(tree):
        for body in (getattr(node, 'body', None), getattr(node, 'orelse', None),
                     getattr(node, 'finalbody', None)):
            if not isinstance(body, list):
                continue
            strings = [s for s in body if isinstance(s, ast.Expr)
                       and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)]
            for s in strings:
                drop.update(range(s.lineno, s.end_lineno + 1))
            if strings and len(strings) == len(body):
                fill[strings[0].lineno] = ' ' * strings[0].col_offset + 'pass'
    lines = text.split('\n')
    out = []
    for number, line in enumerate(lines, 1):
        if number in fill:
            out.append(fill[number])
        elif number not in drop and (line.strip() or (out and out[-1].strip())):
            out.append(line)  # at most one blank line in a row
    return _check('\n'.join(out).rstrip('\n') + '\n', 'strip')


# -- rename ------------------------------------------------------------------------

_WORDS = ('val', 'tmp', 'buf', 'acc', 'res', 'aux', 'cur', 'blk', 'itm', 'arr', 'mat', 'vec',
          'cnt', 'obj', 'elt', 'thing', 'part', 'piece', 'stuff', 'holder')


def _renameable(tree):
    """The names a copier can change without changing how the grader calls the code."""
    module_level, api_params, local = set(), set(), set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            module_level.add(node.name)
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                module_level.add(sub.id)
            elif isinstance(sub, ast.alias):
                module_level.add(sub.asname or sub.name.split('.')[0])

    def visit(node, depth):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = child.args.posonlyargs + child.args.args + child.args.kwonlyargs + \
                    [a for a in (child.args.vararg, child.args.kwarg) if a]
                names = {a.arg for a in arguments}
                if depth == 0:  # a module function or a method: its API stays
                    api_params.update(names)
                else:
                    local.update(names)
                    local.add(child.name)
                visit(child, depth + 1)
            elif isinstance(child, ast.ClassDef):
                visit(child, depth)
            elif isinstance(child, ast.Lambda):
                local.update(a.arg for a in child.args.args)
                visit(child, depth + 1)
            else:
                if depth > 0 and isinstance(child, ast.Name) and \
                        isinstance(child.ctx, ast.Store):
                    local.add(child.id)
                visit(child, depth)

    visit(tree, 0)
    return local - module_level - api_params - set(dir(builtins)) - {'self', 'cls'}


def _rename_in_fstring(literal, mapping):
    """An f-string literal with the names inside its {fields} renamed."""

    def field(match):
        return re.sub(r'(?<![.\w])([A-Za-z_]\w*)',
                      lambda m: mapping.get(m.group(1), m.group(1)), match.group())
    return re.sub(r'\{[^{}]*\}', field, literal)


def rename(text, seed=0):
    """`text` with every renameable name (see _renameable) changed, consistently."""
    tree = ast.parse(text)
    names = sorted(_renameable(tree))
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
        {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | \
        {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    rng = random.Random(seed)
    mapping = {}
    for name in names:
        while True:
            new = f"{rng.choice(_WORDS)}_{rng.randrange(100)}"
            if new not in taken and not keyword.iskeyword(new):
                break
        taken.add(new)
        mapping[name] = new
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.split('\n')
    brackets = []  # 'params' for a def's parameter list, else 'call'
    edits = []
    for i, tok in enumerate(tokens):
        before = tokens[i - 1].string if i else ''
        if tok.type == tokenize.OP and tok.string in '([{':
            is_def = tok.string == '(' and i > 1 and tokens[i - 2].string == 'def'
            brackets.append('params' if is_def else 'call')
        elif tok.type == tokenize.OP and tok.string in ')]}':
            brackets.pop() if brackets else None
        elif tok.type == tokenize.NAME and tok.string in mapping:
            keyword_argument = brackets and brackets[-1] == 'call' and before in ('(', ',') \
                and i + 1 < len(tokens) and tokens[i + 1].string == '='
            if before != '.' and not keyword_argument:
                edits.append((tok.start, tok.end, mapping[tok.string]))
        elif tok.type == tokenize.STRING and tok.string[:2].lower().strip('rb').startswith('f'):
            # before Python 3.12 an f-string is one token: rename inside its fields
            renamed = _rename_in_fstring(tok.string, mapping)
            if renamed != tok.string and tok.start[0] == tok.end[0]:
                edits.append((tok.start, tok.end, renamed))
    for (row, col), (_, end), new in reversed(edits):
        lines[row - 1] = lines[row - 1][:col] + new + lines[row - 1][end:]
    return _check('\n'.join(lines), 'rename')


# -- reorder -----------------------------------------------------------------------

def reorder(text, seed=0):
    """`text` with each run of consecutive functions (in the module, in each class) reordered."""
    tree = ast.parse(text)
    lines = text.split('\n')
    runs = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef)):
            continue
        run = []
        for child in node.body + [None]:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([d.lineno for d in child.decorator_list] + [child.lineno])
                run.append((first, child.end_lineno))
                continue
            if len(run) > 1:
                runs.append(run)
            run = []
    rng = random.Random(seed)
    for run in sorted(runs, key=lambda r: -r[0][0]):  # bottom first: line numbers hold
        blocks = [lines[first - 1:last] for first, last in run]
        order = list(range(len(blocks)))
        while order == sorted(order):
            rng.shuffle(order)
        gaps = [lines[run[i][1]:run[i + 1][0] - 1] for i in range(len(run) - 1)]
        rebuilt = []
        for slot, index in enumerate(order):
            rebuilt += blocks[index]
            if slot < len(gaps):
                rebuilt += gaps[slot]
        lines[run[0][0] - 1:run[-1][1]] = rebuilt
    return _check('\n'.join(lines), 'reorder')


# -- respace -----------------------------------------------------------------------

_TIGHT_AFTER = {'(', '[', '{', '.', '~', '**'}
_TIGHT_BEFORE = {')', ']', '}', ',', '.', ':', '(', '[', '**'}


def _respaced_line(tokens, indent):
    """One logical line's tokens joined in another style, broken after commas when long."""
    out, width, depth = indent, len(indent), 0
    previous = None
    for tok in tokens:
        piece = tok.string
        if previous is not None:
            glue = '' if (previous.string in _TIGHT_AFTER or piece in _TIGHT_BEFORE) and not \
                (previous.type == tokenize.NAME and keyword.iskeyword(previous.string)
                 and piece in '([{') else ' '
            if previous.string == ',' and depth and width > 60:
                glue = '\n' + indent + ' ' * 8
                width = len(indent) + 8
            elif previous.string in ('(', '[') and piece not in (')', ']'):
                glue = ' '  # inner padding: f( a, b )
            elif piece in (')', ']') and previous.string not in ('(', '['):
                glue = ' '
            out += glue
            width += len(glue)
        out += piece
        width += len(piece)
        if tok.type == tokenize.OP and piece in '([{':
            depth += 1
        elif tok.type == tokenize.OP and piece in ')]}':
            depth -= 1
        previous = tok
    return out


def respace(text, seed=0):
    """`text` with 2-space indents, other spacing in lines, long lines broken, blank lines moved."""
    rng = random.Random(seed)
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.split('\n')
    out, logical, level = [], [], 0
    multiline = False
    for tok in tokens:
        if tok.type == tokenize.INDENT:
            level += 1
        elif tok.type == tokenize.DEDENT:
            level -= 1
        elif tok.type == tokenize.NL and not logical:
            if rng.random() < 0.5:
                out.append('')  # keep about half of the blank lines
        elif tok.type == tokenize.COMMENT and not logical:
            out.append('  ' * level + tok.string)
        elif tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if logical:
                if multiline:  # a string over several lines: keep the statement's own text
                    first, last = logical[0].start[0], logical[-1].end[0]
                    chunk = lines[first - 1:last]
                    chunk[0] = '  ' * level + chunk[0].lstrip()
                    out.extend(chunk)
                else:
                    code = [t for t in logical if t.type not in (tokenize.NL, tokenize.COMMENT)]
                    trailing = [t.string for t in logical if t.type == tokenize.COMMENT]
                    out.append(_respaced_line(code, '  ' * level) +
                               ''.join(f'  {c}' for c in trailing))
                    if rng.random() < 0.15:
                        out.append('')
            logical, multiline = [], False
        elif tok.type not in (tokenize.NL, tokenize.ENCODING):
            logical.append(tok)
            if tok.type == tokenize.STRING and tok.start[0] != tok.end[0]:
                multiline = True
            elif getattr(tokenize, 'FSTRING_START', -1) == tok.type:
                multiline = True  # 3.12 f-strings: keep their text as written
    return _check('\n'.join(out).rstrip('\n') + '\n', 'respace')


# -- utf-7 ---------------------------------------------------------------------------

def utf7(text):
    """The bytes of `text` behind a UTF-7 cookie: one comment line to a UTF-8 reader."""
    body = []
    for char in '\n' + text:
        if char == '\n':
            body.append('+AAo-')
        elif char == '+':
            body.append('+-')
        elif ord(char) < 128:
            body.append(char)
        else:
            body.append(char.encode('utf-7').decode('ascii'))
    data = ('# -*- coding: utf-7 -*-\n#' + ''.join(body) + '\n').encode('ascii')
    compile(data, 'utf7', 'exec')
    return data


# -- whole submissions ---------------------------------------------------------------

def python_files(folder):
    return sorted(p for p in Path(folder).rglob('*.py') if '__pycache__' not in p.parts)


def disguise(kind, source, out, seed=0):
    """Write a disguised copy of the package folder `source` to `out` (kinds but transplant)."""
    source, out = Path(source), Path(out)
    if kind not in KINDS or kind == 'transplant':
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS[:-1])}")
    shutil.copytree(source, out, ignore=shutil.ignore_patterns('__pycache__'))
    for number, path in enumerate(python_files(out)):
        text = path.read_text(encoding='utf-8')
        if not text.strip():
            continue
        where = seed * 1000 + number
        if kind == 'utf7':
            data = utf7(text)
            if len(data) <= MAX_SUBMITTED_FILE:  # a file over the limit would be refused
                path.write_bytes(data)
            continue
        if kind in ('rename', 'all'):
            text = rename(text, where)
        if kind in ('strip', 'all'):
            text = strip(text)
        if kind in ('reorder', 'all'):
            text = reorder(text, where)
        if kind in ('respace', 'all'):
            text = respace(text, where)
        path.write_text(text, encoding='utf-8')
    return out


def transplant(source, own, out, rel=None):
    """Write `own` to `out` with the file `rel` (default: SOURCE's largest .py) from source."""
    source, own, out = Path(source), Path(own), Path(out)
    if rel is None:
        rel = max(python_files(source), key=lambda p: p.stat().st_size).relative_to(source)
    shutil.copytree(own, out, ignore=shutil.ignore_patterns('__pycache__'))
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / rel, out / rel)
    return Path(rel).as_posix()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split('\n\n', 2)[2])
    parser.add_argument('kind', choices=KINDS)
    parser.add_argument('source', help="the package folder copied")
    parser.add_argument('out', help="where the disguised copy goes (must not exist)")
    parser.add_argument('--seed', type=int, default=0, help="varies names, orders, spacing")
    parser.add_argument('--into', metavar='OWN', help="transplant: the otherwise own submission")
    parser.add_argument('--file', metavar='REL', help="transplant: the file taken from SOURCE")
    args = parser.parse_args(argv)
    for folder in [args.source] + ([args.into] if args.into else []):
        if not Path(folder).is_dir():
            parser.error(f"{folder} is not a folder")
    if Path(args.out).exists():
        parser.error(f"{args.out} exists; choose a new folder")
    try:
        if args.kind == 'transplant':
            if not args.into:
                parser.error("transplant needs --into OWN")
            rel = transplant(args.source, args.into, args.out, args.file)
            print(f"{args.out}: {args.into} with {rel} from {args.source}")
        else:
            disguise(args.kind, args.source, args.out, args.seed)
            print(f"{args.out}: {args.kind} copy of {args.source}")
    except (SyntaxError, UnicodeDecodeError, tokenize.TokenError, OSError) as err:
        print(f"disguise: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
