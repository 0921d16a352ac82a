"""A file's syntax tree, parsed once and walked once, for everything that reads it."""
import ast
import warnings


def nodes(text):
    """Every node of the text's syntax tree (breadth first), or None if it does not parse.

    Never raises: a file Python cannot parse, or nests too deep to, gives None.
    """
    try:
        with warnings.catch_warnings():  # invalid escapes and the like are no concern here
            warnings.simplefilter('ignore')
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None
    found, index = [tree], 0
    while index < len(found):  # ast.walk's order, without its generator per node
        node = found[index]
        index += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                found.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                found.append(value)
    return found
