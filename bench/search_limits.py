"""What the search limits bound: ``GET /v1/orders?search=…`` time by number of words.

Each word is one more ``LIKE '%word%'`` over the customer's names and phone and the item's name,
joined: the cost grows with the words (before the limits, 500 words took 16 s on 200,000 orders
and ~1,000 were a 500 on SQLite). This prints the server-side time (in-process, through the whole
middleware and DRF stack, signed in) of a search of 1 word, of ``SEARCH_MAX_TERMS`` words (the
most a request may now carry), of more words with the limit lifted (what the limit prevents),
and of the refused requests.

    DATABASE_URL=postgres://…/custorder_bench .venv/bin/python bench/search_limits.py
    (fill it first: manage.py seed_demo --no-demo --orders 200000)
"""

from __future__ import annotations

import os
import sys
import time

from _common import percentiles, setup_django


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database with orders in it")
    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import override_settings
    from rest_framework.test import APIClient

    from apps.orders.models import Order

    user, _ = get_user_model().objects.get_or_create(
        username="bench-search", defaults={"is_staff": True, "is_superuser": True}
    )
    client = APIClient()
    client.force_authenticate(user)
    orders = Order.objects.count()
    print(
        f"{orders:,} orders, PostgreSQL; limit {settings.SEARCH_MAX_TERMS} words / "
        f"{settings.SEARCH_MAX_CHARS} characters"
    )
    print(f"{'search':44} {'status':>6} {'p50 ms':>9} {'max ms':>9}")

    def run(label: str, words: list[str], repeat: int) -> None:
        query = {"search": " ".join(words), "page_size": "50"}
        client.get("/v1/orders", query)  # warm up
        samples, status = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            status = client.get("/v1/orders", query).status_code
            samples.append((time.perf_counter() - started) * 1000)
        figures = percentiles(samples)
        print(f"{label:44} {status:6d} {figures['p50']:9.1f} {max(samples):9.1f}", flush=True)

    limit = settings.SEARCH_MAX_TERMS
    # Words that match nothing (each row fails at its first LIKE) and words that match many
    # rows (single letters: every LIKE of every word runs on most rows) — the expensive kind.
    nothing = [f"zq{i}" for i in range(1000)]
    letters = list("aeinorslt") + [a + b for a in "aeinorslt" for b in "aeinorslt"]
    run("1 word matching nothing", nothing[:1], 5)
    run(f"{limit} words matching nothing (the limit)", nothing[:limit], 5)
    run("1 common letter", letters[:1], 5)
    run(f"{limit} common letters (the limit)", letters[:limit], 5)
    run(f"{limit + 1} words: refused", nothing[: limit + 1], 5)
    run("500 x 'a' (the issue's URL): refused", ["a"] * 500, 5)
    with override_settings(SEARCH_MAX_TERMS=1000, SEARCH_MAX_CHARS=100_000):
        for count in (32, 90):
            run(f"{count} common letters/pairs, limit lifted", letters[:count], 2)


if __name__ == "__main__":
    main()
