"""Code a submission builds at run time: exec, eval, compile, __import__ and friends.

Copied code can hide from the similarity check as a string that is decoded
and executed (exec(zlib.decompress(base64.b64decode('...')))). Nothing here
runs anything: the source is parsed, every use of a code-building function
is listed with its line, and where the argument is a chain of plain decoders
over a literal (base64, zlib, bz2, lzma, hex, rot13, str/bytes decode), the
chain is evaluated here, bounded, so the hidden code can be compared too.
"""
import ast
import base64
import binascii
import bz2
import codecs
import lzma
import zlib
from dataclasses import dataclass, field

BUILDERS = {'exec', 'eval', 'compile', '__import__', 'execfile'}
QUALIFIED = {('marshal', 'loads'), ('types', 'CodeType'), ('types', 'FunctionType'),
             ('importlib', 'import_module'), ('builtins', 'exec'), ('builtins', 'eval'),
             ('builtins', 'compile')}
MAX_DECODED = 2**20
MAX_REVEALED = 4 * 2**20  # decoded text kept per file, however many exec calls it holds


@dataclass
class Finding:
    """What one file does to build code at run time."""
    uses: list = field(default_factory=list)      # 'line N: exec(...)'
    revealed: list = field(default_factory=list)  # decoded source texts


def _name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return None


def _literal(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value
    return None


def _decode(node, depth=0):
    """The bytes or str a pure decoder chain over a literal evaluates to, else None."""
    if depth > 12:
        return None
    value = _literal(node)
    if value is not None:
        return value
    if not isinstance(node, ast.Call):
        return None
    name = _name(node.func) or ''
    args = [_decode(a, depth + 1) for a in node.args]
    if isinstance(node.func, ast.Attribute) and node.func.attr in ('decode', 'encode'):
        inner = _decode(node.func.value, depth + 1)
        if inner is None:
            return None
        encoding = (_literal(node.args[0]) if node.args else None) or 'utf-8'
        try:
            if node.func.attr == 'decode' and isinstance(inner, bytes):
                return inner.decode(encoding, 'replace')
            if node.func.attr == 'encode' and isinstance(inner, str):
                return inner.encode(encoding, 'replace')
        except LookupError:
            return None
        return None
    if not args or args[0] is None:
        return None
    data = args[0]
    as_bytes = data.encode('latin-1', 'replace') if isinstance(data, str) else data
    tail = name.split('.')[-1]
    try:
        if tail in ('b64decode', 'standard_b64decode', 'urlsafe_b64decode', 'decodebytes'):
            return base64.b64decode(as_bytes)
        if tail in ('b32decode', 'b16decode', 'b85decode', 'a85decode'):
            return getattr(base64, tail)(as_bytes)
        if tail in ('unhexlify', 'a2b_hex', 'fromhex'):
            return binascii.unhexlify(as_bytes)
        if tail == 'decompress':
            module = name.split('.')[0]
            if module == 'bz2':
                return bz2.BZ2Decompressor().decompress(as_bytes, MAX_DECODED)
            if module == 'lzma':
                return lzma.LZMADecompressor().decompress(as_bytes, MAX_DECODED)
            return zlib.decompressobj().decompress(as_bytes, MAX_DECODED)
        if name in ('codecs.decode', 'codecs.encode') and len(node.args) > 1:
            return codecs.decode(data, _literal(node.args[1]) or 'utf-8')
    except Exception:  # damaged data: nothing to reveal
        return None
    return None


def scan(text, tree_nodes=None):
    """Finding of one .py file's source; never raises.

    tree_nodes: every node of the file's syntax tree (similarity.syntax.nodes),
    when the caller has them already.
    """
    finding = Finding()
    if tree_nodes is None:
        try:
            tree_nodes = list(ast.walk(ast.parse(text)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return finding
    total = 0
    for node in tree_nodes:
        name = None
        if isinstance(node, ast.Name) and node.id in BUILDERS:
            name = node.id
        elif isinstance(node, ast.Attribute):
            dotted = _name(node)
            if dotted and tuple(dotted.split('.')[-2:]) in QUALIFIED:
                name = dotted
        elif isinstance(node, ast.Call) and _name(node.func) == 'getattr' and node.args \
                and _name(node.args[0]) in ('builtins', '__builtins__') \
                and (len(node.args) < 2 or _literal(node.args[1]) is None):
            name = 'getattr(builtins, ...)'
        if name:
            finding.uses.append(f"line {getattr(node, 'lineno', '?')}: {name}")
        if isinstance(node, ast.Call) and _name(node.func) in ('exec', 'eval', 'compile') \
                and node.args and total < MAX_REVEALED:
            revealed = _decode(node.args[0])
            if isinstance(revealed, bytes):
                revealed = revealed.decode('utf-8', 'replace')
            if isinstance(revealed, str) and revealed.strip():
                finding.revealed.append(revealed[:min(MAX_DECODED, MAX_REVEALED - total)])
                total += len(finding.revealed[-1])
    finding.uses = sorted(set(finding.uses), key=lambda u: (len(u), u))
    return finding
