"""Alpine.js start-up in the admin: the precompiled evaluator (no CSP 'unsafe-eval') against
Alpine's own `new Function` evaluator, same pages, same browser, same run.

    DATABASE_URL=postgres://user:pw@127.0.0.1:5432/db .venv/bin/python bench/alpine.py \\
        [--loads 30] [--orders 50]

What it does:

1. migrates the database, tops it up with demo data (``seed_demo``) and a superuser;
2. starts ``manage.py runserver`` (test settings, static files served);
3. in headless Chromium (/usr/bin/chromium) signs in, then loads the dashboard, the order list
   and an order's change form ``--loads`` times in each mode:
   * ``precompiled``: as served — CSP without 'unsafe-eval', expressions looked up in
     alpine-expressions.js;
   * ``eval``: the evaluator script answered empty and the CSP header removed, so Alpine compiles
     every expression with ``new Function`` (what unfold does out of the box);
4. prints, per page and mode, the time from ``alpine:init`` to ``alpine:initialized`` (Alpine
   walking the page and evaluating every expression) and from navigation start to
   ``alpine:initialized``, as p50/p95 in ms, the ratio precompiled / eval, and CSP violations.
"""

from __future__ import annotations

import argparse
import gzip
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import percentiles, setup_django  # noqa: E402

MARKS = """
window.__marks = {violations: 0};
document.addEventListener("alpine:init", () => { window.__marks.init = performance.now(); });
document.addEventListener("alpine:initialized", () => {
    window.__marks.initialized = performance.now();
});
document.addEventListener("securitypolicyviolation", () => { window.__marks.violations += 1; });
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(orders: int) -> int:
    from django.core.management import call_command

    from apps.orders.models import Order
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    if Order.objects.count() < orders:
        call_command("seed_demo", verbosity=0)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if not User.objects.filter(username="bench-admin").exists():
        UserFactory(username="bench-admin", is_staff=True, is_superuser=True)
    order_pk = Order.objects.order_by("pk").values_list("pk", flat=True).first()
    if order_pk is None:
        raise SystemExit("no order to open: seed_demo created none")
    return order_pk


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--orders", type=int, default=50)
    args = parser.parse_args()

    settings = "backoffice.settings.test"
    setup_django(settings)
    order_pk = prepare(args.orders)
    from apps.admin_toolkit.alpine_csp import OUTPUT, catalogue

    found = catalogue()
    compiled = OUTPUT.read_bytes()
    print(
        f"compiled: {len(found.exact)} expressions + {len(found.patterns)} patterns, "
        f"{len(compiled) / 1024:.0f} KiB ({len(gzip.compress(compiled)) / 1024:.0f} KiB gzipped)"
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"{base}/healthz")
        run(base, order_pk, args.loads)
    finally:
        server.terminate()
        server.wait(10)


class _Result(TypedDict):
    init: list[float]
    total: list[float]
    violations: int


def run(base: str, order_pk: int, loads: int) -> None:
    from playwright.sync_api import sync_playwright

    pages = {
        "dashboard": "/admin/",
        "order list": "/admin/orders/order/",
        "order form": f"/admin/orders/order/{order_pk}/change/",
    }
    results: dict[tuple[str, str], _Result] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        tabs = {}
        for mode in ("precompiled", "eval"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(MARKS)
            # Both modes fetch admin pages through the same interception, so its cost is equal.
            if mode == "eval":
                context.route("**/admin_toolkit/js/alpine-csp.js", lambda r: r.fulfill(body=""))
                context.route("**/admin/**", strip_csp)
            else:
                context.route("**/admin/**", pass_through)
            page = context.new_page()
            page.goto(f"{base}/admin/login/")
            page.fill("input[name=username]", "bench-admin")
            page.fill("input[name=password]", "pw-test-12345")
            with page.expect_navigation():
                page.click("form button[type=submit]")
            page.goto(f"{base}/admin/")
            if "/login/" in page.url:
                raise SystemExit("could not sign in as bench-admin")
            tabs[mode] = page
        # The two modes alternate load by load, so machine noise falls on both alike.
        for name, path in pages.items():
            for mode in tabs:
                results[(name, mode)] = {"init": [], "total": [], "violations": 0}
            for i in range(loads + 3):
                for mode, page in tabs.items():
                    page.goto(f"{base}{path}")
                    page.wait_for_function("() => window.__marks.initialized !== undefined")
                    marks = page.evaluate("() => window.__marks")
                    r = results[(name, mode)]
                    r["violations"] += marks["violations"]
                    if i >= 3:  # warm-up loads
                        r["init"].append(marks["initialized"] - marks["init"])
                        r["total"].append(marks["initialized"])
        browser.close()

    print(f"\n{loads} loads per page and mode, alternating (after 3 warm-up loads each)")
    print(
        f"{'page':<12} {'mode':<12} {'Alpine start p50/p95 ms':>24} "
        f"{'nav→ready p50/p95 ms':>22} {'CSP violations':>15}"
    )
    for name in pages:
        for mode in ("precompiled", "eval"):
            r = results[(name, mode)]
            init, total = percentiles(r["init"]), percentiles(r["total"])
            print(
                f"{name:<12} {mode:<12} {init['p50']:>11.1f} / {init['p95']:<10.1f} "
                f"{total['p50']:>10.1f} / {total['p95']:<9.1f} {r['violations']:>15}"
            )
        pre = percentiles(results[(name, "precompiled")]["init"])["p50"]
        ev = percentiles(results[(name, "eval")]["init"])["p50"]
        print(f"{name:<12} {'ratio':<12} {pre / ev:>11.2f} x (precompiled / eval, start p50)")


def pass_through(route) -> None:
    response = route.fetch()
    route.fulfill(response=response, headers=response.headers)


def strip_csp(route) -> None:
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
    route.fulfill(response=response, headers=headers)


if __name__ == "__main__":
    main()
