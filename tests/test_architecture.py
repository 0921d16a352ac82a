"""The house's plan: data flows one way through the grader's packages, and no module imports in a circle.

Every import of every module of `autograder` is read (at any depth, so an
import inside a function counts too), resolved to the module it names, and
checked against the layers below: a package may import only from the layers
listed for it. probes.py and the launcher run inside the sandbox with no kit
on the path, so they import nothing of the kit at all.
"""
import ast

import pytest

from helpers import KIT

ROOT = KIT / 'autograder'
BASE = {'autograder', 'autograder.paths', 'autograder.untrusted', 'autograder.files',
        'autograder.exits', 'autograder.html'}
# package -> the packages (besides BASE) its modules may import
ALLOWED = {
    'catalogue': set(),
    'grading': {'catalogue'},
    'course': {'catalogue', 'grading'},
    'authoring': {'catalogue', 'grading', 'course'},
    'commands': {'catalogue', 'grading', 'course', 'authoring'},
}
SELF_CONTAINED = {'autograder.grading.probes', 'autograder.grading.sandbox.launcher',
                  'autograder.grading.sandbox.seccomp'}


def _module_name(path):
    parts = list(path.relative_to(KIT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def _modules():
    return {_module_name(p): p for p in ROOT.rglob('*.py')}


def _imports(name, path, known):
    """The kit modules `name` imports (resolved; a package's submodule when named)."""
    is_package = path.name == '__init__.py'
    here = name if is_package else name.rsplit('.', 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split('.')
                base = base[:len(base) - node.level + 1]
                prefix = '.'.join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ''
            targets = [f'{prefix}.{a.name}' if f'{prefix}.{a.name}' in known else prefix
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition('.')[0]
            if target.startswith('autograder'):
                out.add(target)
    return out


def _graph():
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def _layer(module):
    parts = module.split('.')
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def violations(graph):
    """Imports that break the layers, as lines."""
    problems = []
    for module, targets in graph.items():
        if module in SELF_CONTAINED:
            problems += [f"{module} (runs in the sandbox) imports {t}" for t in targets]
            continue
        if module in ('autograder.cli', 'autograder.__main__'):
            continue  # the entry point: it runs a command and names the errors it reports
        layer = _layer(module)
        for target in targets:
            other = _layer(target)
            if target in BASE or (other is not None and other == layer):
                continue
            if other is None:
                problems.append(f"{module} imports {target}, the entry point")
            elif layer is None:
                problems.append(f"{module} (a base module) imports {target}")
            elif other not in ALLOWED[layer]:
                problems.append(f"{module} ({layer}) imports {target} ({other})")
    return problems


def test_every_package_imports_only_from_the_layers_before_it():
    problems = violations(_graph())
    assert not problems, '\n'.join(sorted(problems))


def test_the_check_sees_an_import_reaching_back():
    """The circle the last review found (mutants took its exit codes from cli.py), and
    a stage importing a later one, are both caught."""
    assert violations({'autograder.authoring.mutants': {'autograder.cli'}})
    assert violations({'autograder.grading.judge': {'autograder.course.batch'}})
    assert violations({'autograder.grading.probes': {'autograder.paths'}})
    assert not violations({'autograder.course.batch': {'autograder.grading.grader',
                                                       'autograder.files'}})


def test_no_module_imports_in_a_circle():
    graph = _graph()
    state, stack, cycles = {}, [], []

    def visit(module):
        state[module] = 'open'
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target == module or target in (module.rsplit('.', 1)[0],):
                continue  # a module importing its own package's __init__ names
            if state.get(target) == 'open':
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 'done'

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, '\n'.join(' -> '.join(c) for c in cycles)


@pytest.mark.parametrize('package', sorted(ALLOWED))
def test_each_package_says_its_job_and_what_it_may_import(package):
    """A new maintainer reads the package's docstring first: its job, its modules in
    the order data flows through them, and the layers it may import."""
    doc = ast.get_docstring(ast.parse((ROOT / package / '__init__.py').read_text())) or ''
    assert len(doc.split()) > 30, f"autograder/{package}/__init__.py needs a docstring"
    assert 'import' in doc, f"autograder/{package}: say what it may import"
    modules = sorted(p.stem for p in (ROOT / package).glob('*.py') if p.stem != '__init__')
    missing = [m for m in modules if m not in doc]
    assert not missing, f"autograder/{package}/__init__.py does not name {missing}"
