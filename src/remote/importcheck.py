"""Import check, run locally by the project interpreter (standard library only, Python 3.8+).

Usage: python importcheck.py ROOT ENTRY_FILE  < NUL-separated selected paths (relative to ROOT)
       python importcheck.py --function NAME ROOT ENTRY_FILE

Follows the imports of ENTRY_FILE transitively through the project's own modules. A module that exists
under ROOT but is not in the selection would be missing on the target: it is reported with the importing
file and line. importlib.import_module / __import__ calls cannot be followed: they are listed as such.
Prints one JSON object: {"warnings": [{"kind": "missing"|"dynamic", "file", "line", "module"}], "inputs"}.

With --function, says whether NAME is bound at the top level of ENTRY_FILE (a def, a class, an assignment
or an import, also inside a top-level if/try/with), without running it: {"function": "defined" | "missing"
| "star" (a star import might bind it) | "unparsable", "detail", "inputs"}.

"inputs" is everything the answer depends on besides the arguments and the interpreter, so that the caller can
cache it exactly: {"files": {path: sha256 of the bytes read}, "lookups": {path: whether it was a file}}, or
null when the answer cannot be cached (a file could not be read, a path is not UTF-8, or something changed
while the script ran).
"""

import ast
import hashlib
import json
import os
import sys


class Inputs:
    """Records every file read and every existence check, with what was seen."""

    def __init__(self):
        self.files, self.lookups, self.exact = {}, {}, True

    def note(self, table, path, seen):
        if table.setdefault(path, seen) != seen or not utf8(path):
            self.exact = False

    def read(self, path):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            self.exact = False
            raise
        self.note(self.files, path, hashlib.sha256(data).hexdigest())
        return data

    def isfile(self, path):
        found = os.path.isfile(path)
        self.note(self.lookups, path, found)
        return found

    def json(self):
        return {"files": self.files, "lookups": self.lookups} if self.exact else None


def utf8(path):
    """Whether the caller, which reads paths as UTF-8, would find this very path."""
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


INPUTS = Inputs()


def candidates(base, dotted):
    """Files that would provide module `dotted` when `base` is on sys.path."""
    path = os.path.join(base, *dotted.split("."))
    return [path + ".py", os.path.join(path, "__init__.py")]


class Checker:
    def __init__(self, root, entry, selected):
        self.root = root
        self.selected = selected
        # What the runner puts on sys.path: the code dir, and (script mode) the entry's folder.
        self.bases = [root]
        entry_dir = os.path.dirname(os.path.join(root, entry))
        if entry_dir != root:
            self.bases.append(entry_dir)
        self.warnings = []
        self.seen = set()

    def rel(self, path):
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def local_file(self, dotted, bases):
        """(relative path of the module's file, or None) for a module found under the project."""
        for base in bases:
            for path in candidates(base, dotted):
                if INPUTS.isfile(path):
                    return self.rel(path)
        return None

    def require(self, dotted, bases, importer, line):
        """Checks every package on the way to `dotted`, then the module itself; follows selected ones."""
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            found = self.local_file(name, bases)
            if found is None:
                continue
            if found not in self.selected:
                module = self.absolute_name(found)
                self.warnings.append({"kind": "missing", "file": importer, "line": line, "module": module, "path": found})
                return
            self.visit(found)

    @staticmethod
    def absolute_name(found):
        """pkg/sub/mod.py or pkg/sub/mod/__init__.py -> pkg.sub.mod (how a relative import resolves)."""
        stem = found[: -len("/__init__.py")] if found.endswith("/__init__.py") else found[: -len(".py")]
        return stem.replace("/", ".")

    def relative_bases(self, importer, level):
        folder = os.path.dirname(os.path.join(self.root, importer))
        for _ in range(level - 1):
            folder = os.path.dirname(folder)
        return [folder]

    def visit(self, rel):
        if rel in self.seen:
            return
        self.seen.add(rel)
        try:
            tree = ast.parse(INPUTS.read(os.path.join(self.root, rel)), filename=rel)
        except (OSError, SyntaxError, ValueError):
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.require(alias.name, self.bases, rel, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                bases = self.relative_bases(rel, node.level) if node.level else self.bases
                module = node.module or ""
                if module:
                    self.require(module, bases, rel, node.lineno)
                for alias in node.names:
                    # `from pkg import name`: name may be a submodule.
                    sub = module + "." + alias.name if module else alias.name
                    if alias.name != "*" and self.local_file(sub, bases) is not None:
                        self.require(sub, bases, rel, node.lineno)
            elif isinstance(node, ast.Call) and self.is_dynamic_import(node.func):
                self.warnings.append(
                    {"kind": "dynamic", "file": rel, "line": node.lineno, "module": self.describe(node)}
                )

    @staticmethod
    def is_dynamic_import(func):
        if isinstance(func, ast.Name):
            return func.id in ("__import__", "import_module")
        return isinstance(func, ast.Attribute) and func.attr == "import_module"

    @staticmethod
    def describe(call):
        if not call.args:
            return "?"
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        return ast.unparse(arg) if hasattr(ast, "unparse") else "?"


def bound_names(statements, star_names=None):
    """Names a module body binds, and whether it has a star import `star_names` cannot resolve.
    Descends into if/try/with/for/while. star_names(node) gives the names a star import binds, or None."""
    names, star = set(), False
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
                    continue
                resolved = star_names(node) if star_names else None
                if resolved is None:
                    star = True
                else:
                    names |= resolved
        else:
            for target in assigned_targets(node):
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names.add(leaf.id)
        for block in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, block, None)
            if isinstance(inner, list) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                more, more_star = bound_names(inner, star_names)
                names |= more
                star = star or more_star
    return names, star


def assigned_targets(node):
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    if hasattr(ast, "NamedExpr") and isinstance(node, ast.Expr) and isinstance(node.value, ast.NamedExpr):
        return [node.value.target]
    return []


def module_exports(root, path, seen):
    """The names `from <module at path> import *` binds: __all__ when it is a literal list, else the public
    bound names. None when unknown (unparsable, a cycle, or a star import of a module outside the project)."""
    if path in seen:
        return None
    seen = seen | {path}
    try:
        tree = ast.parse(INPUTS.read(path), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            try:
                return set(ast.literal_eval(node.value))
            except ValueError:
                return None
    names, star = bound_names(tree.body, lambda node: star_exports(root, path, node, seen))
    return None if star else {n for n in names if not n.startswith("_")}


def star_exports(root, importer, node, seen):
    """The names a star import in `importer` binds when its module is a project file, else None."""
    if node.level:
        base = os.path.dirname(importer)
        for _ in range(node.level - 1):
            base = os.path.dirname(base)
        bases = [base]
    else:
        bases = [root, os.path.dirname(importer)]
    for base in bases:
        for path in candidates(base, node.module or "__init__") if node.module else [os.path.join(base, "__init__.py")]:
            if INPUTS.isfile(path):
                return module_exports(root, path, seen)
    return None


def parameters(tree, name):
    """How `def name` takes keyword arguments, when the module binds name by one undecorated def at its top
    level and nothing after it rebinds name (a decorator or a later binding may change what is called: then
    None, nothing checked).
    {"names": those a keyword can give, "required": those without a default, "positional_only": required ones
    no keyword can give, "any": whether **kwargs takes any other}."""
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if len(defs) != 1 or defs[0].decorator_list:
        return None
    later, star = bound_names(tree.body[tree.body.index(defs[0]) + 1:])
    if name in later or star:
        return None
    a = defs[0].args
    positional = list(getattr(a, "posonlyargs", [])) + list(a.args)
    required = positional[:len(positional) - len(a.defaults)]
    kwonly_required = [p for p, default in zip(a.kwonlyargs, a.kw_defaults) if default is None]
    return {
        "names": [p.arg for p in a.args + a.kwonlyargs],
        "required": [p.arg for p in a.args if p in required] + [p.arg for p in kwonly_required],
        "positional_only": [p.arg for p in getattr(a, "posonlyargs", []) if p in required],
        "any": a.kwarg is not None,
    }


def function_status(root, path, name):
    try:
        tree = ast.parse(INPUTS.read(path), filename=path)
    except SyntaxError as error:
        return {"function": "unparsable", "detail": "line %s: %s" % (error.lineno, error.msg)}
    except (OSError, ValueError) as error:
        return {"function": "unparsable", "detail": str(error)}
    names, star = bound_names(tree.body, lambda node: star_exports(root, path, node, {path}))
    if name in names:
        return {"function": "defined", "detail": "", "parameters": parameters(tree, name)}
    return {"function": "star" if star else "missing", "detail": ", ".join(sorted(n for n in names if not n.startswith("_")))}


def main():
    if sys.argv[1] == "--function":
        name, root, entry = sys.argv[2], os.path.abspath(sys.argv[3]), sys.argv[4]
        status = function_status(root, os.path.join(root, entry), name)
        json.dump(dict(status, inputs=INPUTS.json()), sys.stdout)
        return
    root, entry = os.path.abspath(sys.argv[1]), sys.argv[2]
    selected = {os.fsdecode(p) for p in sys.stdin.buffer.read().split(b"\0") if p}
    checker = Checker(root, entry, selected)
    checker.visit(entry)
    json.dump({"warnings": checker.warnings, "inputs": INPUTS.json()}, sys.stdout)


if __name__ == "__main__":
    main()
