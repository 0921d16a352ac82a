"""Mutants of the student-written code of solutions/: small, plausible bugs, one at a time.

Only code between `# BEGIN SOLUTION` and `# END SOLUTION` is mutated (what
students write; stubs.solution_regions finds it). Each mutant changes one
thing in one statement, with one operator:

    arith        an arithmetic operator swapped (+ -, * /, / //, @ *)
    augassign    an augmented assignment's operator swapped (+= -=, *= /=)
    compare      a comparison loosened or flipped (> >=, == !=, in / not in)
    constant     a number moved by one (k -> k + 1, k - 1)
    sign         a unary minus dropped
    drop_term    a term or factor dropped (a + b -> a, a * b -> b, x - shift -> x)
    drop_divisor a division dropped (x / n -> x: a missing 1/N)
    double_term  a term doubled (a + b -> a + 2 * b, += v -> += 2 * v)
    axis         a reduction over the other axis, or over everything
    keepdims     keepdims=True dropped
    transpose    a .T dropped
    off_by_one   a slice or range bound moved by one
    condition    an if's test replaced by True, False or its negation
    call         a function swapped for its sibling (max min, sum mean, argmax argmin,
                 sigmoid ReLU, maximum minimum)
    index        rows picked with arange turned into a whole-column slice (x[:, y])
    skip         a statement left out (a skipped update, a missing 1/N, a missing bias)
    accumulate   `=` into model state turned into `+=` (gradients that accumulate)
    overwrite    `+=` into a container turned into `=`
    rebind       an in-place update turned into a new binding (w -= g -> w = w - g)
    unwrap       a `with` block's context dropped (e.g. np.errstate)

The operators are this module's own, on the standard library's ast: the
plausible bugs of this assignment are numpy ones (axes, keepdims, .T, 1/N,
accumulation) that general-purpose mutation tools do not generate, and the
mutants must stay inside the solution regions and be graded by the kit's
grader rather than by a test command.

Every mutant has a stable id, FILE:FUNCTION:OPERATOR:HASH, the hash taken
from the statement before and after the change (not from line numbers), so
an id stays the same while that statement stays the same, wherever it moves.
"""
import ast
import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .stubs import solution_regions

OPERATORS = ('arith', 'augassign', 'compare', 'constant', 'sign', 'drop_term', 'drop_divisor',
             'double_term', 'axis', 'keepdims', 'transpose', 'off_by_one', 'condition', 'call',
             'index', 'skip', 'accumulate', 'overwrite', 'rebind', 'unwrap')

ARITH = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,),
         ast.Div: (ast.Mult, ast.FloorDiv), ast.FloorDiv: (ast.Div,), ast.MatMult: (ast.Mult,)}
AUGASSIGN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
COMPARE = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
           ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
           ast.In: ast.NotIn, ast.NotIn: ast.In}
CALLS = {'maximum': 'minimum', 'minimum': 'maximum', 'max': 'min', 'min': 'max',
         'sum': 'mean', 'mean': 'sum', 'argmax': 'argmin', 'argmin': 'argmax',
         'sigmoid': 'ReLU', 'ReLU': 'sigmoid', 'sigmoid_dev': 'ReLU_dev',
         'ReLU_dev': 'sigmoid_dev'}
# Nodes whose text needs no parentheses wherever an expression stands.
ATOMIC = (ast.Name, ast.Constant, ast.Call, ast.Attribute, ast.Subscript, ast.List,
          ast.Dict, ast.Set)


@dataclass(frozen=True)
class Mutant:
    """One mutant of one solutions file.

    Attributes:
        id: FILE:FUNCTION:OPERATOR:HASH (see the module's docstring).
        file: the file's path relative to the package, e.g. 'models/two_layer_nn.py'.
        function: qualified name of the function mutated, e.g. 'TwoLayerNet.forward'.
        operator: one of OPERATORS.
        line: 1-based line of the changed statement in the reference file.
        original: the statement (or the test of an if) before the change, one line.
        mutated: the same after it ('pass' for a skipped statement).
        source: the whole mutated file's text.
    """
    id: str
    file: str
    function: str
    operator: str
    line: int
    original: str
    mutated: str
    source: str = field(repr=False, compare=False)

    def summary(self):
        """A one-line description for people: `before` -> `after`."""
        return f"line {self.line}: `{self.original}` -> `{self.mutated}`"

    def as_dict(self):
        return {'id': self.id, 'file': self.file, 'function': self.function,
                'operator': self.operator, 'line': self.line, 'original': self.original,
                'mutated': self.mutated}


# -- helpers on trees ---------------------------------------------------------------
def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _const(value):
    return ast.Constant(value)


def _plus(node, k):
    """node + k (or node - |k|) as a tree."""
    return ast.BinOp(node, ast.Add() if k > 0 else ast.Sub(), _const(abs(k)))


def _children(node):
    """(field, index or None, child) for every direct child node."""
    for name, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            yield name, None, value
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield name, i, item


def _replace_in(root, target, new):
    """Replace `target` (a node inside root) by `new`, in place; True when found."""
    for parent in ast.walk(root):
        for name, index, child in _children(parent):
            if child is target:
                if index is None:
                    setattr(parent, name, new)
                else:
                    getattr(parent, name)[index] = new
                return True
    return False


def _is_keyword_value(node, parents):
    return any(isinstance(p, ast.keyword) for p in parents)


# -- expression operators: (operator, replacement node) for one node -----------------
def _expression_mutations(node, parents):
    """The mutations of one expression node.

    Args:
        node: an ast expression node (inside a solution region).
        parents: its ancestors inside the statement, innermost last.

    Yields:
        (operator name, new node), the new node standing in for `node`.
    """
    if isinstance(node, ast.BinOp):
        for op in ARITH.get(type(node.op), ()):
            yield 'arith', ast.BinOp(node.left, op(), node.right)
        if isinstance(node.op, ast.Add):
            yield 'drop_term', node.left
            yield 'drop_term', node.right
        elif isinstance(node.op, ast.Sub):
            yield 'drop_term', node.left
        elif isinstance(node.op, ast.Mult):
            yield 'drop_term', node.left
            yield 'drop_term', node.right
        elif isinstance(node.op, (ast.Div, ast.FloorDiv)):
            yield 'drop_divisor', node.left
        if isinstance(node.op, (ast.Add, ast.Sub)) and not isinstance(node.right, ast.Constant):
            yield 'double_term', ast.BinOp(node.left, node.op,
                                           ast.BinOp(_const(2), ast.Mult(), node.right))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield 'sign', node.operand
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        swapped = COMPARE.get(type(node.ops[0]))
        if swapped:
            yield 'compare', ast.Compare(node.left, [swapped()], node.comparators)
    elif isinstance(node, ast.Constant) and _number(node.value):
        # Numbers in keyword arguments are presentation here (figsize, dpi,
        # alpha) or axes, which the axis operator mutates.
        if not _is_keyword_value(node, parents):
            step = 1 if isinstance(node.value, int) else 1.0
            yield 'constant', _const(node.value + step)
            if node.value != 0:
                yield 'constant', _const(node.value - step)
    elif isinstance(node, ast.Attribute) and node.attr == 'T':
        yield 'transpose', node.value
    elif isinstance(node, ast.Call):
        yield from _call_mutations(node)
    elif isinstance(node, ast.Subscript):
        yield from _subscript_mutations(node)
    elif isinstance(node, ast.IfExp):
        for test in _tests(node.test):
            yield 'condition', ast.IfExp(test, node.body, node.orelse)


def _call_mutations(node):
    keywords = {k.arg: k for k in node.keywords}
    axis = keywords.get('axis')
    if axis is not None and isinstance(axis.value, ast.Constant) and _number(axis.value.value):
        for other in (0, 1):
            if other != axis.value.value:
                yield 'axis', _with_keywords(node, {'axis': _const(other)})
        yield 'axis', _with_keywords(node, {'axis': None})
    keep = keywords.get('keepdims')
    if keep is not None and isinstance(keep.value, ast.Constant) and keep.value.value is True:
        yield 'keepdims', _with_keywords(node, {'keepdims': None})
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else \
        func.id if isinstance(func, ast.Name) else None
    if name in CALLS:
        new_func = copy.copy(func)
        if isinstance(func, ast.Attribute):
            new_func.attr = CALLS[name]
        else:
            new_func.id = CALLS[name]
        yield 'call', ast.Call(new_func, node.args, node.keywords)
    if name == 'range' and not node.keywords and len(node.args) >= 2:
        # A bound that is a number is the constant operator's.
        start, stop = node.args[0], node.args[1]
        if not isinstance(start, ast.Constant):
            yield 'off_by_one', ast.Call(func, [_plus(start, 1)] + node.args[1:], [])
        # `len(x) + 1` already moves by one under the constant operator.
        moved = isinstance(stop, ast.BinOp) and isinstance(stop.right, ast.Constant)
        if not isinstance(stop, ast.Constant) and not moved:
            for k in (1, -1):
                yield 'off_by_one', ast.Call(func, [start, _plus(stop, k)] + node.args[2:], [])


def _with_keywords(call, changes):
    """A copy of call with keyword values changed (None: the keyword dropped)."""
    keywords = []
    for k in call.keywords:
        if k.arg in changes:
            if changes[k.arg] is not None:
                keywords.append(ast.keyword(k.arg, changes[k.arg]))
        else:
            keywords.append(k)
    return ast.Call(call.func, call.args, keywords)


def _subscript_mutations(node):
    index = node.slice
    if isinstance(index, ast.Slice) and index.step is None:
        for part in ('lower', 'upper'):
            bound = getattr(index, part)
            if isinstance(bound, ast.Constant):
                continue  # the constant operator's
            if bound is None:
                options = [_const(1)] if part == 'lower' else [ast.UnaryOp(ast.USub(), _const(1))]
            else:
                options = [_plus(bound, 1), _plus(bound, -1)]
            for new in options:
                parts = {'lower': index.lower, 'upper': index.upper, part: new}
                yield 'off_by_one', ast.Subscript(node.value, ast.Slice(parts['lower'],
                                                                        parts['upper']), node.ctx)
    if isinstance(index, ast.Tuple) and len(index.elts) == 2:
        first = index.elts[0]
        if isinstance(first, ast.Call) and getattr(first.func, 'attr',
                                                   getattr(first.func, 'id', '')) == 'arange':
            yield 'index', ast.Subscript(node.value,
                                         ast.Tuple([ast.Slice(), index.elts[1]], ast.Load()),
                                         node.ctx)


# Comparisons whose swap in COMPARE is their exact negation.
NEGATED = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)


def _tests(test):
    """What a condition is replaced by: always, never, the opposite.

    The opposite is left out where the compare operator already makes it
    (`a != b` -> `a == b`), so one bug is not counted twice.
    """
    yield _const(True)
    yield _const(False)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], NEGATED):
        return
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        yield test.operand
    else:
        yield ast.UnaryOp(ast.Not(), test)


# -- statement operators ---------------------------------------------------------------
def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _rebinds(stmt):
    """`x = f(x)`, `a, b = a[i], b[i]`: every target name is read by the value."""
    targets = stmt.targets[0]
    if len(stmt.targets) != 1:
        return False
    elts = targets.elts if isinstance(targets, ast.Tuple) else [targets]
    return all(isinstance(t, ast.Name) for t in elts) and \
        {t.id for t in elts} <= _names(stmt.value)


def _statement_mutations(stmt):
    """(operator, replacement statement) for a simple statement as a whole."""
    stateful = (ast.Subscript, ast.Attribute)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        yield 'skip', ast.Pass()
    elif isinstance(stmt, ast.AugAssign):
        yield 'skip', ast.Pass()
        swapped = AUGASSIGN.get(type(stmt.op))
        if swapped:
            yield 'augassign', ast.AugAssign(stmt.target, swapped(), stmt.value)
        if isinstance(stmt.op, (ast.Add, ast.Sub)) and not isinstance(stmt.value, ast.Constant):
            yield 'double_term', ast.AugAssign(stmt.target, stmt.op,
                                               ast.BinOp(_const(2), ast.Mult(), stmt.value))
        if isinstance(stmt.target, stateful):
            yield 'overwrite', ast.Assign([stmt.target], stmt.value)
        elif isinstance(stmt.target, ast.Name):
            load = ast.Name(stmt.target.id, ast.Load())
            yield 'rebind', ast.Assign([stmt.target], ast.BinOp(load, stmt.op, stmt.value))
    elif isinstance(stmt, ast.Assign):
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], stateful):
            yield 'skip', ast.Pass()
            yield 'accumulate', ast.AugAssign(stmt.targets[0], ast.Add(), stmt.value)
        elif _rebinds(stmt):
            yield 'skip', ast.Pass()


# -- the source text -------------------------------------------------------------------
class _Source:
    """A file's text with (line, column) -> offset arithmetic for ast positions."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno, col):
        # ast columns count UTF-8 bytes; convert to characters of that line.
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode()[:col].decode())

    def span(self, node):
        return (self.offset(node.lineno, node.col_offset),
                self.offset(node.end_lineno, node.end_col_offset))

    def replaced(self, start, end, new):
        return self.text[:start] + new + self.text[end:]

    def indent_of(self, lineno):
        line = self.lines[lineno - 1]
        return line[:len(line) - len(line.lstrip())]


def _one_line(node):
    return ' '.join(ast.unparse(node).split())


def _expression_text(node):
    text = ast.unparse(node)
    return text if isinstance(node, ATOMIC) else f'({text})'


def _functions(tree):
    """(qualified name, FunctionDef) of every function, classes included in the name."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f'{prefix}.{child.name}' if prefix else child.name
                if not isinstance(child, ast.ClassDef):
                    out.append((name, child))
                visit(child, name)

    visit(tree, '')
    return out


def _region_statements(func, inside):
    """Statements of func (at any depth) that lie wholly on the region lines `inside`."""
    found = []
    for node in ast.walk(func):
        if isinstance(node, ast.stmt) and node is not func and \
                node.lineno in inside and node.end_lineno in inside:
            found.append(node)
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def _expression_sites(stmt):
    """(expression, ancestors) under a statement; for compound ones, only their header."""
    if isinstance(stmt, (ast.If, ast.While)):
        roots = [stmt.test]
    elif isinstance(stmt, ast.For):
        roots = [stmt.iter]
    elif isinstance(stmt, (ast.With, ast.FunctionDef, ast.ClassDef, ast.Try)):
        roots = []
    else:
        roots = [stmt]
    sites = []

    def visit(node, parents):
        if isinstance(node, ast.expr):
            sites.append((node, parents))
        for _, _, child in _children(node):
            if isinstance(child, ast.JoinedStr):
                continue  # messages are not mutated
            visit(child, parents + [node])

    for root in roots:
        visit(root, [])
    return sites


def mutants_of_file(text, rel, name=None):
    """Every mutant of one solutions file's solution regions.

    Args:
        text: the file's source.
        rel: its path relative to the package (posix), used in ids.
        name: shown in errors (default rel).

    Returns:
        list of Mutant, in source order; identical mutated files are kept once.
    """
    regions = solution_regions(text, name or rel)
    if not regions:
        return []
    inside = {line + 1 for begin, end in regions for line in range(begin + 1, end)}
    tree = ast.parse(text, name or rel)
    source = _Source(text)
    out, seen, taken = [], {text}, {}
    for qualname, func in _functions(tree):
        for stmt in _region_statements(func, inside):
            for operator, start, end, new_text, before, after in _candidates(stmt, source):
                mutated = source.replaced(start, end, new_text)
                if mutated in seen:
                    continue
                try:
                    new_tree = ast.parse(mutated)
                except SyntaxError:
                    continue
                if ast.dump(new_tree) == ast.dump(tree):
                    continue  # the change is only formatting
                seen.add(mutated)
                digest = hashlib.sha256(f'{before}\0{after}'.encode()).hexdigest()[:8]
                base = f'{rel}:{qualname}:{operator}:{digest}'
                taken[base] = taken.get(base, 0) + 1
                mutant_id = base if taken[base] == 1 else f'{base}.{taken[base]}'
                out.append(Mutant(mutant_id, rel, qualname, operator, stmt.lineno, before,
                                  after, mutated))
    return out


def _candidates(stmt, source):
    """(operator, start, end, replacement text, before, after) for one statement."""
    if isinstance(stmt, ast.With):
        # unwrap: the body without its context manager, dedented to the with's column.
        body_start = source.offset(stmt.body[0].lineno, 0)
        body_end = source.offset(stmt.body[-1].end_lineno, 0) + \
            len(source.lines[stmt.body[-1].end_lineno - 1])
        shift = len(source.indent_of(stmt.body[0].lineno)) - len(source.indent_of(stmt.lineno))
        body = ''.join(line[shift:] if line.strip() else line
                       for line in source.text[body_start:body_end].splitlines(keepends=True))
        start = source.offset(stmt.lineno, 0)
        header = _one_line(stmt).split(':', 1)[0] + ':'
        yield ('unwrap', start, body_end, body, header,
               ' '.join(_one_line(s) for s in stmt.body))
        return
    simple = not isinstance(stmt, (ast.If, ast.While, ast.For, ast.FunctionDef, ast.ClassDef,
                                   ast.Try))
    start, end = source.span(stmt)
    if simple:
        before = _one_line(stmt)
        for operator, new in _statement_mutations(stmt):
            new = ast.fix_missing_locations(ast.copy_location(new, stmt))
            yield operator, start, end, ast.unparse(new), before, _one_line(new)
    if isinstance(stmt, (ast.If, ast.While)):
        t_start, t_end = source.span(stmt.test)
        for test in _tests(stmt.test):
            yield ('condition', t_start, t_end, _expression_text(test), _one_line(stmt.test),
                   _one_line(test))
    for node, parents in _expression_sites(stmt):
        for operator, new in _expression_mutations(node, parents):
            if simple:
                copied = copy.deepcopy(stmt)
                target = _find_copy(stmt, copied, node)
                if target is copied:
                    continue
                _replace_in(copied, target, new)
                ast.fix_missing_locations(copied)
                yield operator, start, end, ast.unparse(copied), _one_line(stmt), \
                    _one_line(copied)
            else:
                n_start, n_end = source.span(node)
                header = stmt.test if isinstance(stmt, (ast.If, ast.While)) else stmt.iter
                h_start, h_end = source.span(header)
                text = source.text[h_start:n_start] + _expression_text(new) + \
                    source.text[n_end:h_end]
                after_header = ' '.join(text.split())
                yield operator, n_start, n_end, _expression_text(new), _one_line(header), \
                    after_header


def _find_copy(original, copied, node):
    """The node of `copied` (a deep copy of `original`) at node's position."""
    for a, b in zip(ast.walk(original), ast.walk(copied)):
        if a is node:
            return b
    raise LookupError(node)


def generate(package_dir, files=None):
    """Every mutant of the package's solution regions.

    Args:
        package_dir: the reference package (solutions/).
        files: relative paths to mutate (default: every .py file with a region).

    Returns:
        list of Mutant, by file then source order.
    """
    package_dir = Path(package_dir)
    if files is None:
        files = sorted(p.relative_to(package_dir).as_posix() for p in package_dir.rglob('*.py')
                       if '__pycache__' not in p.parts and 'tests' not in
                       p.relative_to(package_dir).parts)
    out = []
    for rel in files:
        text = (package_dir / rel).read_text()
        out.extend(mutants_of_file(text, rel, str(package_dir / rel)))
    return out
