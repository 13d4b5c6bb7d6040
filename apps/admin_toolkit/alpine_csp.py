"""Alpine.js expressions compiled ahead of time, so the admin runs without CSP ``'unsafe-eval'``.

unfold drives its admin with Alpine.js, whose standard build turns every ``x-data``, ``x-show``,
``@click`` … attribute into code with ``new Function`` at run time. Under a Content-Security-Policy
without ``'unsafe-eval'`` that is refused. This module reads every template (and the Python
sources that write Alpine attributes), collects the expressions Alpine will evaluate, and writes
them as ordinary functions into a static script (``apps/admin_toolkit/static/admin_toolkit/js/
alpine-expressions.js``). ``alpine-csp.js`` installs an Alpine evaluator that looks expressions
up there instead of compiling them.

Expressions with Django template tags inside them are handled as patterns:

* ``{% if %}…{% else %}…{% endif %}`` is expanded into one expression per branch;
* a tag inside a quoted JS string (``activeTab == '{{ prefix }}'``) becomes a captured string;
* a tag glued to a name (``openActionsId{{ id }}``, ``$refs.rowDropdown{{ id }}``) becomes a
  computed name (``__scope[`openActionsId${id}`]``);
* a tag standing alone (``currentIndex === {{ n }}``) must render a JSON value (number, boolean).

Anything else raises :class:`Unsupported` naming the template, so an unfold upgrade that adds a
new shape fails loudly (``scripts/alpine_expressions.py --check`` and the tests run this).

Regenerate with ``python scripts/alpine_expressions.py`` after upgrading unfold or changing a
template that uses Alpine.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

OUTPUT = (
    Path(__file__).resolve().parent / "static" / "admin_toolkit" / "js" / "alpine-expressions.js"
)

# Directives whose value Alpine evaluates (x-transition, x-ref, x-teleport, x-cloak … are not).
EVALUATED = {
    "data", "init", "show", "text", "html", "model", "modelable", "effect", "if", "for", "id",
    "bind", "on", "sort", "anchor", "resize", "trap", "intersect",
}  # fmt: skip
# x-sort's sub-attributes that are markers or plain strings, not expressions.
NOT_EVALUATED_SORT = {"group", "handle", "ignore", "item"}

DJANGO_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
HOLE_MARK = "\x00"
ATTRIBUTE = re.compile(
    r"""(?<![\w:@.$-])(x-[a-z]+(?:[:.][\w:.-]*)?|[:@][a-zA-Z][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')"""
)
# Python sources: widget attrs dicts ({"x-model": "action"}).
PY_ATTRIBUTE = re.compile(
    r"""["'](x-[a-z]+(?:[:.][\w:.-]*)?|@[a-zA-Z][\w:.-]*)["']\s*:\s*"([^"]*)\""""
)
IDENT = re.compile(r"[\w$]")
# Alpine wraps these in an async arrow function so that they may be statements.
STATEMENT = re.compile(r"^[\n\s]*if.*\(.*\)|^(let|const)\s")
# Alpine's x-for syntax: "item in items" evaluates "items".
FOR_ALIAS = re.compile(r"([\s\S]*?)\s+(?:in|of)\s+([\s\S]*)")

HOLE_PATTERNS = {
    "s": r"([\s\S]*?)",  # inside a JS string
    "i": r"([\w$]*)",  # part of a name
    "v": r"(-?\d+(?:\.\d+)?|true|false|null)",  # a JSON value on its own
}


class Unsupported(ValueError):
    """An Alpine expression whose template tags cannot be turned into a pattern."""


@dataclass(frozen=True)
class Hole:
    """A Django ``{{ … }}`` or ``{% … %}`` inside an expression: unknown until rendered."""

    tag: str


@dataclass(frozen=True)
class Pattern:
    regex: str
    kinds: str
    code: str


@dataclass
class Catalogue:
    exact: dict[str, str] = field(default_factory=dict)  # expression -> where it was found
    patterns: dict[Pattern, str] = field(default_factory=dict)
    # Expressions that are a template tag as a whole: unfold's conditional fields, whose
    # form data is JSON (read without eval at run time) and whose conditions come from
    # ModelAdmin.conditional_fields (added by build()).
    whole_tags: list[str] = field(default_factory=list)

    def add(self, parts: list[str | Hole], origin: str) -> None:
        text = [p for p in parts if not (isinstance(p, str) and not p.strip())]
        if len(text) == 1 and isinstance(text[0], Hole):
            self.whole_tags.append(f"{origin}: {text[0].tag}")
        elif not any(isinstance(p, Hole) for p in parts):
            self.exact.setdefault("".join(parts), origin)  # type: ignore[arg-type]  # no Hole in parts (checked just above); mypy cannot narrow the list
        else:
            self.patterns.setdefault(to_pattern(parts, origin), origin)


def evaluated(name: str, value: list[str | Hole]) -> list[list[str | Hole]]:
    """The expressions Alpine evaluates for one attribute (none for non-evaluating directives)."""
    if name.startswith("@"):
        name = "x-on:" + name[1:]
    elif name.startswith(":"):
        name = "x-bind:" + name[1:]
    match = re.match(r"x-([a-z]+)(?::([\w-]+))?", name)
    if not match or match.group(1) not in EVALUATED:
        return []
    directive, argument = match.groups()
    if directive == "sort" and argument in NOT_EVALUATED_SORT:
        return []
    if directive == "data":
        return [value or ["{}"]]
    if directive in ("init", "on") and not "".join(map(str, value)).strip():
        return []
    if directive == "for":
        text = "".join(p if isinstance(p, str) else "\x01" for p in value)
        found = FOR_ALIAS.search(text)
        if not found:
            return []
        if "\x01" in text:
            raise Unsupported("template tag inside x-for")
        return [[found.group(2).strip()]]
    if directive in ("model", "modelable"):
        return [value, [*value, " = __placeholder"]]
    return [value]


def tokenize(text: str) -> tuple[str, list[str]]:
    """Replace Django tags with numbered marks so attribute quotes inside tags do not count."""
    tags: list[str] = []

    def mark(m: re.Match[str]) -> str:
        if m.group(0).startswith("{#"):
            return ""
        tags.append(m.group(0))
        return f"{HOLE_MARK}{len(tags) - 1}{HOLE_MARK}"

    return DJANGO_TAG.sub(mark, text), tags


def restore(value: str, tags: list[str]) -> list[str | Hole]:
    parts: list[str | Hole] = []
    for i, chunk in enumerate(value.split(HOLE_MARK)):
        if i % 2:
            parts.append(Hole(tags[int(chunk)]))
        elif chunk:
            parts.append(html.unescape(chunk))
    return parts


def expand(parts: list[str | Hole]) -> list[list[str | Hole]]:
    """Every combination of the ``{% if %}`` branches inside one attribute value."""
    alternatives, rest = _expand_until(parts, 0, ())
    if rest != len(parts):
        raise Unsupported("unbalanced {% if %}")
    return [_merge(a) for a in alternatives]


def _tag_name(hole: Hole) -> str:
    m = re.match(r"\{%\s*(\w+)", hole.tag)
    return m.group(1) if m else ""


def _expand_until(
    parts: list[str | Hole], i: int, stops: tuple[str, ...]
) -> tuple[list[list[str | Hole]], int]:
    results: list[list[str | Hole]] = [[]]
    while i < len(parts):
        part = parts[i]
        name = _tag_name(part) if isinstance(part, Hole) else ""
        if name in stops:
            return results, i
        if name == "if":
            options: list[list[str | Hole]] = []
            has_else = False
            i += 1
            while True:
                branch, i = _expand_until(parts, i, ("elif", "else", "endif"))
                options.extend(branch)
                if i >= len(parts):
                    raise Unsupported("unterminated {% if %}")
                closing = _tag_name(parts[i])  # type: ignore[arg-type]  # _expand_until stops on a tag, a str
                i += 1
                has_else = has_else or closing == "else"
                if closing == "endif":
                    break
            if not has_else:
                options.append([])
            results = [r + o for r in results for o in options]
            continue
        if name in ("for", "with", "block", "endfor", "endwith"):
            raise Unsupported(f"{{% {name} %}} inside an Alpine expression")
        results = [[*r, part] for r in results]
        i += 1
    if stops:
        raise Unsupported("unterminated {% if %}")
    return results, i


def _merge(parts: list[str | Hole]) -> list[str | Hole]:
    merged: list[str | Hole] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return merged


def _regex_escape(text: str) -> str:
    """Escape for a regular expression read the same by Python's ``re`` and JavaScript."""
    out = []
    for ch in text:
        if ch in "\\^$.|?*+()[]{}/-":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        else:
            out.append(ch)
    return "".join(out)


def _template_literal_text(text: str) -> str:
    return text.replace("`", "\\`").replace("${", "\\${")


def to_pattern(parts: list[str | Hole], origin: str) -> Pattern:
    """Turn an expression with template tags into a regular expression plus JS code that reads
    the captured values from ``__h``."""
    marked = "".join(p if isinstance(p, str) else HOLE_MARK for p in parts)
    if marked.strip() == HOLE_MARK:
        raise Unsupported(f"{origin}: the whole expression is a template tag")
    kinds: list[str] = []
    code: list[str] = []
    hole = 0

    def take(kind: str) -> str:
        nonlocal hole
        kinds.append(kind)
        hole += 1
        return f"${{__h[{hole - 1}]}}"

    i = 0
    while i < len(marked):
        ch = marked[i]
        if ch in "'\"`":
            end = i + 1
            while end < len(marked) and marked[end] != ch:
                end += 2 if marked[end] == "\\" else 1
            content = marked[i + 1 : end]
            if HOLE_MARK in content:
                pieces = content.split(HOLE_MARK)
                body = pieces[0] if ch == "`" else _template_literal_text(pieces[0])
                for piece in pieces[1:]:
                    body += take("s") + (piece if ch == "`" else _template_literal_text(piece))
                code.append(f"`{body}`")
            else:
                code.append(marked[i : end + 1])
            i = end + 1
            continue
        if ch != HOLE_MARK:
            code.append(ch)
            i += 1
            continue
        # A hole in code: glued to a name, or a value of its own.
        left = i
        while left > 0 and (IDENT.match(marked[left - 1]) or marked[left - 1] == HOLE_MARK):
            left -= 1
        right = i + 1
        while right < len(marked) and (IDENT.match(marked[right]) or marked[right] == HOLE_MARK):
            right += 1
        token = marked[left:right]
        if token == HOLE_MARK:
            kinds.append("v")
            code.append(f"__h[{len(kinds) - 1}]")
            hole += 1
            i += 1
            continue
        # Drop the name's start already copied into code, then write it computed.
        prefix = marked[left:i]
        if prefix:
            del code[len(code) - len(prefix) :]
        pieces = token.split(HOLE_MARK)
        name = pieces[0] + "".join(take("i") + piece for piece in pieces[1:])
        before = "".join(code).rstrip()
        after = marked[right:].lstrip()
        if before.endswith("."):
            while code and code[-1].isspace():
                code.pop()
            code.pop()  # the dot
            code.append(f"[`{name}`]")
        elif after.startswith(":") and before[-1:] in ("{", ","):
            code.append(f"[`{name}`]")
        else:
            code.append(f"__scope[`{name}`]")
        i = right
    regex = "".join(_regex_escape(p) if isinstance(p, str) else HOLE_MARK for p in parts)
    for kind in kinds:
        regex = regex.replace(HOLE_MARK, HOLE_PATTERNS[kind], 1)
    return Pattern(regex=f"^{regex}$", kinds="".join(kinds), code="".join(code))


def _function(expression: str, params: str) -> str:
    statement = STATEMENT.search(expression.strip())
    body = f"(async()=>{{ {expression} }})()" if statement else expression
    return (
        f"async function ({params}) {{ with (__scope) {{ __self.result = {body}\n}};"
        " __self.finished = true; return __self.result; }"
    )


def attributes_in_template(text: str) -> Iterator[tuple[str, list[str | Hole]]]:
    marked, tags = tokenize(text)
    for m in ATTRIBUTE.finditer(marked):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        yield m.group(1), restore(value, tags)
    # Attributes passed to tags as strings: {% component … extra_attrs="x-on:click='…'" %}
    for tag in tags:
        for m in ATTRIBUTE.finditer(tag):
            value = m.group(2) if m.group(2) is not None else m.group(3)
            yield m.group(1), [html.unescape(value)] if value else []


def attributes_in_python(text: str) -> Iterator[tuple[str, list[str | Hole]]]:
    for m in PY_ATTRIBUTE.finditer(text):
        yield m.group(1), [m.group(2)]
    # HTML written in Python strings (format_html): only attributes without format fields.
    for name, value in attributes_in_template(text):
        if not any(isinstance(p, str) and re.search(r"\{\w*\}", p) for p in value):
            yield name, value


def collect(template_files: Iterable[Path], python_files: Iterable[Path], root: Path) -> Catalogue:
    catalogue = Catalogue()
    catalogue.exact["index"] = "Alpine's default x-for key"
    sources = [(p, attributes_in_template) for p in template_files]
    sources += [(p, attributes_in_python) for p in python_files]
    for path, reader in sorted(sources, key=lambda s: str(s[0])):
        try:
            origin = str(path.relative_to(root))
        except ValueError:
            origin = str(path)
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, value in reader(text):
            try:
                for expression in evaluated(name, value):
                    for alternative in expand(expression):
                        catalogue.add(alternative, origin)
            except Unsupported as exc:
                raise Unsupported(f"{origin}: {name}: {exc}") from exc
    return catalogue


def render(catalogue: Catalogue) -> str:
    lines = [
        "/* Alpine.js expressions of the admin's templates, compiled ahead of time so that the",
        " * admin needs no CSP 'unsafe-eval' (apps/admin_toolkit/alpine_csp.py, alpine-csp.js).",
        " * Generated by `python scripts/alpine_expressions.py`: do not edit. */",
        "window.__alpineCompiled = {",
        "  exact: {",
    ]
    for expression in sorted(catalogue.exact):
        lines.append(f"    {json.dumps(expression)}: {_function(expression, '__self, __scope')},")
    lines += ["  },", "  patterns: ["]
    for pattern in sorted(catalogue.patterns, key=lambda p: (p.regex, p.code)):
        fn = _function(pattern.code, "__self, __scope, __h")
        lines.append(f"    [{json.dumps(pattern.regex)}, {json.dumps(pattern.kinds)}, {fn}],")
    lines += ["  ],", "};", ""]
    return "\n".join(lines)


def sources() -> tuple[list[Path], list[Path], Path]:
    """Every template Django can load and the Python files that may write Alpine attributes."""
    import unfold
    from django.conf import settings
    from django.template.utils import get_app_template_dirs

    root = Path(settings.BASE_DIR)
    # django-stubs types each TEMPLATES entry's values as ``object``.
    configured = cast("list[str | Path]", settings.TEMPLATES[0]["DIRS"])
    template_dirs = [Path(d) for d in configured]
    template_dirs += [Path(d) for d in get_app_template_dirs("templates")]
    templates = sorted({p for d in template_dirs for p in d.rglob("*.html")})
    unfold_dir = Path(unfold.__file__).resolve().parent
    python = [p for p in unfold_dir.rglob("*.py") if "tests" not in p.parts]
    python += [p for d in ("apps", "backoffice") for p in (root / d).rglob("*.py")]
    python = [p for p in python if p.resolve() != Path(__file__).resolve()]  # its own examples
    return templates, sorted(set(python)), root


# What alpine-csp.js reads without a compiled form: a name or dotted path, x-model's assignment
# to one, and JSON data (unfold's conditional-field form data).
PATH = re.compile(r"^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*$")
SET_PATH = re.compile(r"^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*=\s*__placeholder\s*$")


def covers(found: Catalogue, expression: str) -> bool:
    """Whether alpine-csp.js can evaluate ``expression`` (the same checks, in the same order)."""
    if expression in found.exact:
        return True
    if any(re.search(p.regex, expression) for p in found.patterns):
        return True
    if PATH.search(expression) or SET_PATH.search(expression):
        return True
    if re.match(r"\s*[{[]", expression):
        try:
            json.loads(expression)
            return True
        except ValueError:
            return False
    return False


def catalogue() -> Catalogue:
    """Every expression the admin's templates, Python widgets and ModelAdmins can produce."""
    from django.apps import apps
    from django.contrib import admin

    templates, python, root = sources()
    found = collect(templates, python, root)
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        for expression in (getattr(model_admin, "conditional_fields", None) or {}).values():
            found.exact.setdefault(expression, f"{model.__name__} conditional_fields")
    return found


def build() -> str:
    return render(catalogue())
