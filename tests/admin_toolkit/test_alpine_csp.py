"""The admin's Alpine.js expressions, compiled ahead of time so no page needs 'unsafe-eval'."""

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template import Context, Template

from apps.admin_toolkit import alpine_csp
from apps.admin_toolkit.alpine_csp import Hole, Unsupported
from tests.admin_pages import admin_fragment_urls, admin_page_urls, sample_objects


def test_compiled_file_is_up_to_date():
    assert alpine_csp.OUTPUT.read_text() == alpine_csp.build(), (
        "run: python scripts/alpine_expressions.py"
    )


def test_compiled_file_is_valid_javascript():
    node = shutil.which("node")
    if node is None and os.environ.get("CI") != "true":
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--check", str(alpine_csp.OUTPUT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _parts(template: str) -> list:
    marked, tags = alpine_csp.tokenize(template)
    return alpine_csp.restore(marked, tags)


def _pattern(source: str):
    (alternative,) = alpine_csp.expand(_parts(source))
    return alpine_csp.to_pattern(alternative, "test")


def _rendered(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize(
    ("source", "context", "code", "captured"),
    [
        # Inside a JS string: captured text, the string rewritten as a template literal.
        (
            "activeTab == 'dataset-{{ name }}'",
            {"name": "orders"},
            "activeTab == `dataset-${__h[0]}`",
            ("orders",),
        ),
        # Glued to a variable name: a computed scope lookup.
        (
            "openId{{ n }} = !openId{{ n }}",
            {"n": 7},
            "__scope[`openId${__h[0]}`] = !__scope[`openId${__h[1]}`]",
            ("7", "7"),
        ),
        # Glued to a property name after a dot: computed member access.
        ("$refs.row{{ n }}", {"n": "x1"}, "$refs[`row${__h[0]}`]", ("x1",)),
        # An object key: a computed key.
        ("{ open{{ n }}: false }", {"n": 3}, "{ [`open${__h[0]}`]: false }", ("3",)),
        # A value on its own: must render as JSON.
        ("currentIndex === {{ i }}", {"i": 12}, "currentIndex === __h[0]", ("12",)),
    ],
)
def test_template_tags_become_patterns_that_match_the_rendered_expression(
    source, context, code, captured
):
    pattern = _pattern(source)
    assert pattern.code == code
    match = re.fullmatch(pattern.regex, _rendered(source, **context))
    assert match is not None
    assert match.groups() == captured


def test_if_else_inside_an_expression_gives_one_exact_expression_per_branch():
    source = "selectItem({% if history %}true{% else %}false{% endif %}, true)"
    alternatives = alpine_csp.expand(_parts(source))
    assert alternatives == [["selectItem(true, true)"], ["selectItem(false, true)"]]
    assert _rendered(source, history=True) == "selectItem(true, true)"


def test_if_without_else_adds_the_empty_branch():
    alternatives = alpine_csp.expand(_parts("theme({% if t %}'{{ t }}'{% endif %})"))
    assert alternatives == [["theme('", Hole("{{ t }}"), "')"], ["theme()"]]


def test_unsupported_shapes_are_refused():
    with pytest.raises(Unsupported):
        alpine_csp.expand(_parts("items = [{% for i in x %}{{ i }},{% endfor %}]"))
    with pytest.raises(Unsupported):
        alpine_csp.expand(_parts("open = {% if a %}true"))


def test_directives_map_to_what_alpine_evaluates():
    assert alpine_csp.evaluated("x-for", ["(item, i) in items.slice(1)"]) == [["items.slice(1)"]]
    assert alpine_csp.evaluated("x-model.fill", ["name"]) == [
        ["name"],
        ["name", " = __placeholder"],
    ]
    assert alpine_csp.evaluated("x-data", []) == [["{}"]]
    assert alpine_csp.evaluated("@click.prevent", ["go()"]) == [["go()"]]
    assert alpine_csp.evaluated(":class", ["{'a': b}"]) == [["{'a': b}"]]
    assert alpine_csp.evaluated("x-transition:enter", ["ease-out"]) == []
    assert alpine_csp.evaluated("x-sort:item", ["1"]) == []


def test_attributes_inside_template_tags_are_found():
    template = (
        """<a x-data="{ open: false }">{% component "b.html" with """
        """extra_attrs="x-on:click='open = !open'" %}{% endcomponent %}</a>"""
    )
    found = dict(alpine_csp.attributes_in_template(template))
    assert found == {"x-data": ["{ open: false }"], "x-on:click": ["open = !open"]}


class AlpineAttributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith(("x-", ":", "@")):
                self.found.append((name, value or ""))


@pytest.mark.django_db
def test_every_expression_on_every_admin_page_has_a_compiled_form(superuser, client):
    sample_objects()
    client.force_login(superuser)
    catalogue = alpine_csp.catalogue()
    rendered, missing, seen = 0, [], 0
    for url in admin_page_urls() + admin_fragment_urls():
        response = client.get(url)
        # 403: no add permission (logs); 302: a protected delete goes back with a message.
        protected_delete = url.endswith("/delete/") and response.status_code == 302
        assert response.status_code in (200, 403) or protected_delete, (url, response.status_code)
        if response.status_code != 200:
            continue
        rendered += 1
        parser = AlpineAttributes()
        parser.feed(response.content.decode())
        for name, value in parser.found:
            for expression in alpine_csp.evaluated(name, [value] if value else []):
                seen += 1
                text = "".join(expression)
                if not alpine_csp.covers(catalogue, text):
                    missing.append(f"{url}: {name}={text!r}")
    assert rendered >= 60
    assert seen > 1000
    assert missing == []


SAMPLE_TEMPLATE = """
<div x-data="{ count: 1 }" x-text="count + 1" x-show="Math.max(count, 2) === 2"></div>
<i x-on:click="open{{ id }} = !open{{ id }}" x-show="tab == 'x-{{ name }}'"></i>
<b x-bind:class="{'active': i === {{ n }}}" x-init="value = await fetchIt()"></b>
<a x-on:click="if (ok) hits++" x-model="name"></a>
"""


def _run_evaluator(tmp_path, cases: list[dict], query: str = "") -> list[dict]:
    node = shutil.which("node")
    if node is None and os.environ.get("CI") != "true":
        pytest.skip("node is not installed")
    template = tmp_path / "sample.html"
    template.write_text(SAMPLE_TEMPLATE)
    compiled = tmp_path / "compiled.js"
    compiled.write_text(alpine_csp.render(alpine_csp.collect([template], [], tmp_path)))
    evaluator = alpine_csp.OUTPUT.parent / "alpine-csp.js"
    harness = Path(__file__).resolve().parents[1] / "js" / "alpine_csp_harness.mjs"
    result = subprocess.run(
        [node, str(harness), str(compiled), str(evaluator), query],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_evaluator_runs_compiled_expressions_patterns_and_plain_shapes(tmp_path):
    cases = [
        # Exact expressions, globals reachable through `with`.
        {"expression": "count + 1", "data": {"count": 1}},
        {"expression": "Math.max(count, 2) === 2", "data": {"count": 1}},
        # Patterns: a name built from a template tag, a string, a JSON value.
        {"expression": "open7 = !open7", "data": {"open7": False}},
        {"expression": "tab == 'x-orders'", "data": {"tab": "x-orders"}},
        {"expression": "tab == 'x-orders'", "data": {"tab": "x-items"}},
        {"expression": "{'active': i === 3}", "data": {"i": 3}},
        # await inside an expression; a statement (if) wrapped like Alpine does.
        {"expression": "value = await fetchIt()", "data": {"value": 0}, "functions": ["fetchIt"]},
        {"expression": "if (ok) hits++", "data": {"ok": True, "hits": 1}},
        # x-model: read the name, assign the placeholder from the extra scope.
        {"expression": "name", "data": {"name": "Zawadi"}},
        {
            "expression": "name = __placeholder",
            "data": {"name": "a"},
            "extras": {"scope": {"__placeholder": "Wanjiru"}},
        },
        # A name that holds a function is called with the params, like Alpine does.
        {"expression": "add", "functions": ["add"], "extras": {"params": [2, 3]}},
        {"expression": "toggle", "data": {"open": False}, "functions": ["toggle"]},
        # JSON data (unfold's conditional fields); an unknown expression is reported.
        {"expression": '{"customer": null, "size": []}'},
        {"expression": "alert(document.cookie)", "data": {}},
        # The raw evaluator (Alpine.evaluateRaw) uses the same table.
        {"expression": "count + 1", "data": {"count": 41}, "raw": True},
    ]
    r = _run_evaluator(tmp_path, cases)
    assert r[0]["received"] == [2]
    assert r[1]["received"] == [True]
    assert r[2]["data"] == {"open7": True}
    assert (r[3]["received"], r[4]["received"]) == ([True], [False])
    assert r[5]["received"] == [{"active": True}]
    assert (r[6]["received"], r[6]["data"]) == ([5], {"value": 5})
    assert r[7]["data"] == {"ok": True, "hits": 2}
    assert r[8]["received"] == ["Zawadi"]
    assert r[9]["data"] == {"name": "Wanjiru"}
    assert r[10]["received"] == [5]
    assert (r[11]["received"], r[11]["data"]) == (["toggled"], {"open": True})
    assert r[12]["received"] == [{"customer": None, "size": []}]
    assert r[13]["received"] == [None]
    assert r[13]["errors"] and "alert(document.cookie)" in r[13]["errors"][0]
    assert r[14]["received"] == [42]
    assert all(not case["errors"] for i, case in enumerate(r) if i != 13)


def test_unknown_expressions_are_compiled_only_when_the_fallback_allows_eval(tmp_path):
    cases = [
        {
            "expression": "items.filter(i => i > limit).length",
            "data": {"items": [1, 5, 9], "limit": 4},
        },
        {"expression": "if (on) { hits += 2 }", "data": {"on": True, "hits": 1}},
    ]
    strict = _run_evaluator(tmp_path, cases)
    assert [c["received"] for c in strict] == [[None], [None]]
    assert all(c["errors"] and "no compiled form" in c["errors"][0] for c in strict)
    allowed = _run_evaluator(tmp_path, cases, query="?eval=allowed")
    assert allowed[0]["received"] == [2]
    assert allowed[1]["data"] == {"on": True, "hits": 3}
    assert not any(c["errors"] for c in allowed)


def test_covers_matches_the_evaluator_for_unknown_expressions():
    found = alpine_csp.catalogue()
    assert alpine_csp.covers(found, "openActionsId42 = !openActionsId42")
    assert alpine_csp.covers(found, "name = __placeholder")
    assert not alpine_csp.covers(found, "alert(document.cookie)")
    assert not alpine_csp.covers(found, "{not: json}")
