"""Python source to the token stream the comparison works on.

What a copier changes without changing the program leaves this stream as it
was:

- comments, blank lines, spacing, indentation width and line breaks inside
  brackets produce no token (Python's own tokenize decides what is code);
- a string that stands alone as a statement (a docstring, a block of code
  "commented out" in quotes) produces no token;
- every name the file binds (a variable, parameter, function, class, import
  alias or attribute it assigns) becomes the placeholder `V`, so renaming
  them changes nothing; names it only uses (`len`, `np.exp`'s `exp`,
  `.shape`, the keyword of `axis=1`) are kept, since a copier cannot rename
  what the program calls without changing it, and they tell `np.sum` from
  `np.mean`; variables and attributes are told apart (a variable `shape`
  renamed leaves `.shape` as it was);
- with `literals`, numbers and strings keep their value (1e-3 and 0.001,
  'a' and "a" alike: an epsilon or a plot label is a choice a copier keeps),
  else each becomes its kind, `N` or `S`; f-strings are `S`; `;` counts as a
  line end.

A file Python cannot parse still gets a stream: tokenize is used as far as it
goes and a small lexer reads the rest, and with no syntax tree to say which
names are bound, every name becomes `V`.
"""
import ast
import hashlib
import io
import keyword
import re
import tokenize
import warnings
from dataclasses import dataclass

import numpy as np

from .syntax import nodes

PLACEHOLDER = 'V'
NUMBER = 'N'
STRING = 'S'
LINE_END = ';'

# The types the stream is built from (tokenize's, and the fallback lexer's).
_NAME, _NUMBER, _STRING, _OP, _NEWLINE = 'name', 'number', 'string', 'op', 'newline'
_SKIP = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
         tokenize.ENDMARKER}
_FSTRING_START = getattr(tokenize, 'FSTRING_START', None)  # Python 3.12+
_FSTRING_END = getattr(tokenize, 'FSTRING_END', None)


@dataclass
class Tokens:
    """One file's normalised tokens.

    Attributes:
        ids: (n,) uint64, one value per normalised token text (see token_id).
        raw_ids: (n,) uint64, the same for the tokens as written (names,
            numbers and strings not normalised): what scaffold code, copied
            verbatim by every student, is recognised by.
        starts, ends: (n,) int64, each token's character offsets in the text.
        text: the normalised texts (for tests and for reading a passage).
        problem: '' or why the file was not read by Python's own tokenizer
            to the end (the rest was read by the fallback lexer).
    """
    ids: np.ndarray
    raw_ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    text: list
    problem: str = ''

    def __len__(self):
        return len(self.ids)


_IDS = {}


def token_id(text):
    """A fixed 64-bit value for a normalised token text (the same in every run)."""
    value = _IDS.get(text)
    if value is None:
        value = int.from_bytes(hashlib.blake2b(text.encode('utf-8', 'surrogatepass'),
                                               digest_size=8).digest(), 'little')
        if len(_IDS) < 1_000_000:  # hostile files can hold any number of distinct names
            _IDS[text] = value
    return value


def bound_names(text, tree_nodes=None):
    """(variables, attributes) the file binds, or None if it does not parse.

    variables: names bound as a name (assigned, deleted, a parameter, a
    function or class, an import alias, an exception or match capture);
    attributes: names assigned as an attribute (`self.cache = ...`) and the
    file's functions and classes (`self.helper()`). The two are kept apart so
    that renaming a variable `shape` leaves `.shape` as it was.

    tree_nodes: syntax.nodes(text), when the caller has it already.
    """
    if tree_nodes is None:
        tree_nodes = nodes(text)
    if tree_nodes is None:
        return None
    variables, attributes = set(), set()
    for node in tree_nodes:
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                variables.add(node.id)
        elif isinstance(node, ast.Attribute):
            if not isinstance(node.ctx, ast.Load):
                attributes.add(node.attr)
        elif isinstance(node, ast.arg):
            variables.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            variables.add(node.name)
            attributes.add(node.name)
        elif isinstance(node, ast.alias):
            variables.add(node.asname or node.name.split('.')[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            variables.update(node.names)
        elif isinstance(node, ast.ExceptHandler):
            if node.name:
                variables.add(node.name)
        elif type(node).__name__.startswith('Match'):  # match statements' captures (3.10+)
            for attribute in ('name', 'rest'):
                value = getattr(node, attribute, None)
                if isinstance(value, str):
                    variables.add(value)
    return variables, attributes


# -- lexing ----------------------------------------------------------------------

_FALLBACK = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>(?:[rRbBuUfF]{0,2})(?:'''(?:\\.|[^\\])*?(?:'''|\Z)|\"\"\"(?:\\.|[^\\])*?(?:\"\"\"|\Z)
               |'(?:\\.|[^\\'\n])*(?:'|$)|"(?:\\.|[^\\"\n])*(?:"|$)))
  | (?P<number>(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?|0[xXoObB][\da-fA-F_]+)
  | (?P<name>[^\W\d]\w*)
  | (?P<newline>\n)
  | (?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%&|^@=<>!]=|[-+*/%&|^@=<>~.,:;()\[\]{}])
  | (?P<space>[ \t\f\\]+)
  | (?P<other>.)
""", re.VERBOSE | re.MULTILINE)


def _fallback(text, offset):
    """(type, string, start, end) from `offset` on, by a lexer that never fails."""
    depth = 0
    for match in _FALLBACK.finditer(text, offset):
        kind, value = match.lastgroup, match.group()
        if kind in ('comment', 'space'):
            continue
        if kind == 'newline':
            if depth == 0:
                yield _NEWLINE, value, match.start(), match.end()
            continue
        if kind == 'op':
            depth = depth + 1 if value in '([{' else max(depth - 1, 0) if value in ')]}' \
                else depth
        yield (kind if kind != 'other' else _OP), value, match.start(), match.end()


def _lex(text):
    """(list of (type, string, start, end), problem) for the whole text."""
    line_starts = [0]
    for line in text.split('\n')[:-1]:
        line_starts.append(line_starts[-1] + len(line) + 1)

    def offset(row, col):
        return line_starts[min(row, len(line_starts)) - 1] + col

    out, problem = [], ''
    statement_start = 0  # where the statement in progress began, to restart there
    try:
        fstring_depth, fstring_start = 0, 0
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = tok.type
            start, end = offset(*tok.start), offset(*tok.end)
            if _FSTRING_START is not None and kind in (_FSTRING_START, _FSTRING_END) \
                    or fstring_depth:
                # an f-string is one string token, whatever it holds (Python 3.12+)
                if kind == _FSTRING_START:
                    fstring_depth += 1
                    if fstring_depth == 1:
                        fstring_start = start
                elif kind == _FSTRING_END:
                    fstring_depth -= 1
                    if fstring_depth == 0:
                        out.append((_STRING, text[fstring_start:end], fstring_start, end))
                continue
            if kind in _SKIP:
                continue
            if kind == tokenize.NEWLINE:
                out.append((_NEWLINE, '\n', start, end))
                statement_start = len(out)
            elif kind == tokenize.NAME:
                out.append((_NAME, tok.string, start, end))
            elif kind == tokenize.NUMBER:
                out.append((_NUMBER, tok.string, start, end))
            elif kind == tokenize.STRING:
                out.append((_STRING, tok.string, start, end))
            elif kind == tokenize.ERRORTOKEN and not tok.string.strip():
                continue
            else:
                out.append((_OP, tok.string, start, end))
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError) as err:
        restart = out[statement_start][2] if statement_start < len(out) else (
            out[-1][3] if out else 0)
        del out[statement_start:]
        problem = (f"Python's tokenizer stopped ({type(err).__name__}: "
                   f"{str(err).splitlines()[0][:120] if str(err) else ''}); the rest was read "
                   f"by a simpler lexer")
        out.extend(_fallback(text, restart))
    return out, problem


def _statement_strings(raw):
    """Indexes of string tokens that stand alone as a statement (docstrings and the like)."""
    drop, i, n = set(), 0, len(raw)
    while i < n:
        if raw[i][0] != _STRING:
            i += 1
            continue
        j = i
        while j < n and raw[j][0] == _STRING:  # implicit concatenation: one expression
            j += 1
        before = raw[i - 1] if i else None
        after = raw[j] if j < n else None
        starts = before is None or before[0] == _NEWLINE or before[1] == ';'
        ends = after is None or after[0] == _NEWLINE or after[1] == ';'
        if starts and ends:
            drop.update(range(i, j))
        i = j
    return drop


_LITERALS = {}


def _literal(value, kind):
    """A literal's value as text (1e-3 and 0.001, 'a' and "a" alike), or its kind."""
    norm = _LITERALS.get(value)
    if norm is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                norm = repr(ast.literal_eval(value))[:200]
        except Exception:  # f-strings, broken literals, anything literal_eval refuses
            norm = kind
        if len(_LITERALS) < 100_000:  # hostile files can hold any number of literals
            _LITERALS[value] = norm
    return norm


def normalise(text, literals=False, tree_nodes=None):
    """Tokens of a file's decoded text; never raises on any str.

    literals: keep each number's and string's value (else only its kind).
    tree_nodes: syntax.nodes(text), when the caller has it already.
    """
    bound = bound_names(text, tree_nodes)
    brackets = []  # open brackets, 'def' for a parameter list: `name=` elsewhere is a
    # keyword argument
    raw, problem = _lex(text)
    drop = _statement_strings(raw)
    texts, raws, starts, ends = [], [], [], []
    for index, (kind, value, start, end) in enumerate(raw):
        if index in drop:
            continue
        if kind == _NAME:
            after_dot = texts and texts[-1] == '.'
            keyword_argument = bound is not None and brackets and brackets[-1] != 'def' \
                and texts[-1] in ('(', ',') \
                and index + 1 < len(raw) and raw[index + 1][1] == '='
            if keyword.iskeyword(value) or keyword_argument:
                norm = value  # a keyword argument names the callee's parameter
            elif bound is None or value in bound[1 if after_dot else 0]:
                norm = PLACEHOLDER
            else:
                norm = value
        elif kind == _NUMBER:
            norm = _literal(value, NUMBER) if literals else NUMBER
        elif kind == _STRING:
            if raws and raw[index - 1][0] == _STRING and index - 1 not in drop:
                ends[-1] = end  # 'a' 'b' is one string
                raws[-1] += value
                if literals:
                    texts[-1] = _literal(raws[-1], STRING)
                continue
            norm = _literal(value, STRING) if literals else STRING
        elif kind == _NEWLINE or value == ';':
            if not texts or texts[-1] == LINE_END:
                continue  # 'x = 1;' and blank statements add no line end
            norm = LINE_END
        else:
            norm = value
            if value in ('(', '[', '{'):
                is_def = value == '(' and len(raws) > 1 and raws[-2] == 'def'
                brackets.append('def' if is_def else value)
            elif value in (')', ']', '}') and brackets:
                brackets.pop()
        texts.append(norm)
        raws.append(value if kind != _NEWLINE else LINE_END)
        starts.append(start)
        ends.append(end)
    ids = np.fromiter((token_id(t) for t in texts), dtype=np.uint64, count=len(texts))
    raw_ids = np.fromiter((token_id(t) for t in raws), dtype=np.uint64, count=len(raws))
    return Tokens(ids, raw_ids, np.array(starts, dtype=np.int64),
                  np.array(ends, dtype=np.int64), texts, problem)
