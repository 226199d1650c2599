"""Find cells that redefine the self-check: rebinding ``check`` or changing the ``course`` modules.

The scan reads the code (it never runs it) cell by cell in notebook order, remembering which names
refer to ``course`` modules or objects imported from them. It flags

- any binding of the name ``check`` other than ``from course.checks import check``
  (assignment, ``def``, ``class``, import as, ``del``, loop or ``with`` targets, ``:=``) at the top
  level of a cell or in a function that declares ``global check`` (a local variable is harmless);
- assigning or deleting an attribute of something imported from ``course`` (``checks.check = ...``,
  ``check.__code__ = ...``), also through ``setattr``/``delattr``;
- writing into ``sys.modules``, or ``globals()["check"] = ...``.

The grader does not use the notebook's ``check`` to score, and this scan is no defence (a name built
from strings escapes it): answers are scored in a sandbox and compared in the grader's process. The
scan only adds a note to the reason of a question whose self-check the notebook silenced, so that
the student (and the instructor) see why the notebook looked fine.
"""
from __future__ import annotations

import ast

from IPython.core.inputtransformer2 import TransformerManager

_CHECK = "check"
_ALLOWED_IMPORT = ("course.checks", _CHECK)
_TRANSFORMER = TransformerManager()


def _root_name(node: ast.AST) -> str | None:
    """``a`` for ``a.b.c``, ``a[1].b`` or ``a().b``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


class _Scanner(ast.NodeVisitor):
    def __init__(self, aliases: set[str]):
        self.aliases = aliases  # names bound to course modules or objects from them
        self.findings: list[str] = []
        self.global_scope = [True]  # per scope: does binding `check` there rebind the notebook's check?

    def _flag(self, node: ast.AST, what: str) -> None:
        self.findings.append(f"line {getattr(node, 'lineno', '?')}: {what}")

    def _bind(self, node: ast.AST, name: str, how: str) -> None:
        if name == _CHECK and self.global_scope[-1]:
            self._flag(node, f"rebinds check ({how})")

    def _visit_scope(self, node: ast.AST, binds_globally: bool) -> None:
        self.global_scope.append(binds_globally)
        self.generic_visit(node)
        self.global_scope.pop()

    def _target(self, target: ast.AST, how: str) -> None:
        if isinstance(target, ast.Name):
            self._bind(target, target.id, how)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._target(item, how)
        elif isinstance(target, ast.Starred):
            self._target(target.value, how)
        elif isinstance(target, ast.Attribute) and _root_name(target) in self.aliases | {_CHECK}:
            self._flag(target, f"changes {ast.unparse(target)} ({how})")
        elif isinstance(target, ast.Subscript):
            self._subscript_store(target, how)

    def _subscript_store(self, target: ast.Subscript, how: str) -> None:
        container = target.value
        if isinstance(container, ast.Attribute) and container.attr == "modules":
            self._flag(target, f"writes into {ast.unparse(container)} ({how})")
        elif (
            isinstance(container, ast.Call)
            and isinstance(container.func, ast.Name)
            and container.func.id in {"globals", "vars", "locals"}
            and isinstance(target.slice, ast.Constant)
            and target.slice.value == _CHECK
        ):
            self._flag(target, f"rebinds check through {container.func.id}() ({how})")
        elif _root_name(target) in self.aliases | {_CHECK}:
            self._flag(target, f"changes {ast.unparse(target)} ({how})")

    def visit_Assign(self, node):
        for target in node.targets:
            self._target(target, "assignment")
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._target(node.target, "assignment")
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._target(node.target, "assignment")
        self.generic_visit(node)

    def visit_NamedExpr(self, node):
        self._target(node.target, ":=")
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._target(target, "del")

    def visit_For(self, node):
        self._target(node.target, "loop variable")
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            if item.optional_vars is not None:
                self._target(item.optional_vars, "with ... as")
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_FunctionDef(self, node):
        self._bind(node, node.name, "def")
        declares_global = any(isinstance(n, ast.Global) and _CHECK in n.names for n in ast.walk(node))
        self._visit_scope(node, declares_global)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self._visit_scope(node, False)

    def visit_ClassDef(self, node):
        self._bind(node, node.name, "class")
        self._visit_scope(node, False)

    def visit_Import(self, node):
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            if alias.name == "course" or alias.name.startswith("course."):
                self.aliases.add(bound)
            self._bind(node, bound, "import")

    def visit_ImportFrom(self, node):
        module = node.module or ""
        from_course = node.level == 0 and (module == "course" or module.startswith("course."))
        for alias in node.names:
            bound = alias.asname or alias.name
            if from_course:
                self.aliases.add(bound)
            if bound == _CHECK and (module, alias.name) != _ALLOWED_IMPORT:
                self._flag(node, f"rebinds check (from {module} import {alias.name})")

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in {"setattr", "delattr"} and node.args:
            if _root_name(node.args[0]) in self.aliases | {_CHECK}:
                self._flag(node, f"{node.func.id}() on {ast.unparse(node.args[0])}")
        self.generic_visit(node)


def scan(sources) -> dict[int, list[str]]:
    """``{position: findings}`` for the code cells (sources, in notebook order) that redefine the
    self-check. A cell that is not valid Python is skipped (it cannot run, so it cannot redefine), and
    so is one nested too deep to scan (its note is lost, not its grade)."""
    aliases: set[str] = set()
    findings = {}
    for position, source in enumerate(sources):
        scanner = _Scanner(aliases)
        try:
            scanner.visit(ast.parse(_TRANSFORMER.transform_cell(source)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # nesting thousands deep, null bytes
            continue
        if scanner.findings:
            findings[position] = scanner.findings
    return findings
