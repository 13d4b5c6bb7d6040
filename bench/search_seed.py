"""Fill a PostgreSQL database with 1,000,000 customers, 2,000 items and 10,000,000 orders
through ``COPY`` (for ``bench/search.py``). Run once into a database of its own and keep it:

    export DATABASE_URL=postgres://.../custorder_search
    .venv/bin/python manage.py migrate
    nice -n 10 .venv/bin/python bench/search_seed.py [--orders 10000000 --customers 1000000]

What the data looks like, so that searches meet real selectivities:

- customers: first and last names drawn from lists of common Kenyan names with a long tail
  (a few names are common, most are rare: weights 1/rank), plus ``RARE_CUSTOMERS`` customers
  with names nobody else has; phone numbers unique, mobile (``+2547…``, ``+2541…``);
- items: 400 names (colour + fabric + garment) in five sizes;
- orders: spread over three years, oldest first, numbered 100001… in that order (as the
  numbering migration does), status fitting their age (``seed_demo.synthetic_status``),
  5 % with an external reference; customers and items uniformly at random.

Secondary indexes and constraints of the three tables are dropped before the ``COPY`` and
created again from their own definitions afterwards (much faster than maintaining them row by
row); the script checks that the definitions after equal those before. The customers' order
figures are computed at the end (``stats.customer_order_stats_rebuild``). Idempotent: a table
that already holds its rows is left alone.
"""

import argparse
import io
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import setup_django

setup_django()

from django.db import connection, transaction  # noqa: E402

from apps.orders.management.commands.seed_demo import synthetic_status  # noqa: E402
from apps.orders.models import ORDER_NUMBER_SEQUENCE, ORDER_NUMBER_START  # noqa: E402
from apps.orders.stats import customer_order_stats_rebuild  # noqa: E402

FIRST_NAMES = (  # noqa: SIM905  (names read better as text)
    "Mary John Grace Peter James Joseph Faith Esther Daniel David Ann Jane Samuel Paul Lucy "
    "Margaret Joyce Elizabeth Stephen Mercy Alice Catherine Nancy Moses Sarah Ruth Brian "
    "Kevin Dennis Collins Emmanuel George Francis Charles Michael Purity Caroline Irene "
    "Eunice Winnie Naomi Wanjiku Akinyi Atieno Njeri Wambui Wairimu Nyambura Chebet Jepkosgei "
    "Kiprono Kipchoge Otieno Omondi Ochieng Odhiambo Mwangi Kamau Njoroge Mutua Musyoka "
    "Kariuki Wafula Barasa Wekesa Juma Hassan Fatuma Amina Halima Zainab Abdi Mohamed Ahmed "
    "Said Salim Khadija Rehema Baraka Imani Neema Zawadi Wanjiru Nekesa Nafula Achieng Awino "
    "Adhiambo Auma Akoth Anyango Cherono Jebet Jelagat Kemunto Moraa Kerubo Nyaboke Bosibori "
    "Kwamboka"
).split()
LAST_NAMES = (  # noqa: SIM905  (names read better as text)
    "Otieno Kamau Mwangi Ochieng Odhiambo Njoroge Wanjiru Kariuki Mutua Omondi Kiprop "
    "Cheruiyot Kipkemboi Rotich Koech Kiplagat Langat Mutai Kibet Korir Ngugi Githinji Maina "
    "Waweru Kimani Macharia Gitau Njuguna Wambua Musyoka Mutiso Kioko Muthoka Nzioka Wafula "
    "Wekesa Barasa Simiyu Wanyama Nyongesa Onyango Owino Okoth Ouma Oduor Awuor Achieng "
    "Atieno Akinyi Anyango Abdullahi Hussein Mohamed Ali Hassan Omar Ahmed Yusuf Ibrahim Abdi "
    "Nyamweya Ondieki Mogaka Nyakundi Moturi Obare Momanyi Kerubo Onsongo Bosire Chege "
    "Wachira Kinyua Muriuki Mugo Ndungu Nderitu Gichuki Kahiga Mbugua Mburu Kirui Sang Tanui "
    "Bett Chelimo Jepchumba Saina Lagat Tarus Kemboi Ruto Keter Kimutai Ngetich Chepkoech "
    "Wairimu Wangari Nyokabi Wambui Muthoni Njeri Wanjiku Gathoni Kabura Kagwiria Kathure "
    "Nkatha Makena Kawira Gatwiri"
).split()
RARE_CUSTOMERS = 200  # customers with a first and last name nobody else has
COLOURS = (  # noqa: SIM905  (names read better as text)
    "Red Blue Green Black White Grey Navy Maroon Olive Cream Yellow Orange Pink Purple Teal "
    "Brown Khaki Beige Coral Denim"
).split()
FABRICS = ["Cotton", "Linen", "Wool", "Fleece", "Silk"]
GARMENTS = ["Tee", "Hoodie", "Jacket", "Shorts"]
SIZES = ("S", "M", "L", "XL", "XXL")
YEARS = 3


def _weighted(names: list[str], rng: random.Random, k: int) -> list[str]:
    weights = [1 / (rank + 1) for rank in range(len(names))]
    return rng.choices(names, weights=weights, k=k)


def _uuid_text(rng: random.Random) -> str:
    value = rng.getrandbits(128)
    value &= ~(0xF000 << 64)
    value |= 0x4000 << 64  # version 4
    value &= ~(0xC000 << 48)
    value |= 0x8000 << 48  # RFC 4122 variant
    return f"{value:032x}"


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


def _secondary(table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(CREATE INDEX statements of indexes that back no constraint, (name, definition) of the
    unique and foreign-key constraints) of ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            "(i.schemaname || '.' || i.indexname)::regclass AND c.contype IN ('p', 'u'))",
            [table],
        )
        indexes = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY conname",
            [table],
        )
        constraints = [(name, definition) for name, definition in cursor.fetchall()]
    return indexes, constraints


def _drop_secondary(table: str) -> tuple[list[str], list[tuple[str, str]]]:
    indexes, constraints = _secondary(table)
    with connection.cursor() as cursor:
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for statement in indexes:
            name = statement.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
            cursor.execute(f"DROP INDEX {name}")
    return indexes, constraints


def _restore_secondary(table: str, saved: tuple[list[str], list[tuple[str, str]]]) -> None:
    indexes, constraints = saved
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in constraints:
            if definition.startswith("UNIQUE"):
                start = time.perf_counter()
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                print(f"  {name}: {time.perf_counter() - start:.1f} s", flush=True)
        for statement in indexes:
            start = time.perf_counter()
            cursor.execute(statement)
            print(f"  {statement[:90]}: {time.perf_counter() - start:.1f} s", flush=True)
        for name, definition in constraints:
            if not definition.startswith("UNIQUE"):
                start = time.perf_counter()
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                print(f"  {name}: {time.perf_counter() - start:.1f} s", flush=True)
    after = _secondary(table)
    if after != saved:
        raise SystemExit(f"{table}: indexes or constraints differ after the seed: {after}")


def _copy(table: str, columns: list[str], rows: Iterable[str], chunk: int = 100_000) -> int:
    """COPY the tab-separated lines yielded by ``rows`` into ``table``, ``chunk`` at a time."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    done = 0
    buffer: list[str] = []
    raw = connection.connection
    with raw.cursor() as cursor:
        for line in rows:
            buffer.append(line)
            if len(buffer) >= chunk:
                cursor.copy_expert(sql, io.StringIO("".join(buffer)))
                done += len(buffer)
                buffer.clear()
                if done % 1_000_000 == 0:
                    print(f"  {table}: {done:,}", flush=True)
        if buffer:
            cursor.copy_expert(sql, io.StringIO("".join(buffer)))
            done += len(buffer)
    return done


def seed_customers(n: int, rng: random.Random, now: datetime) -> None:
    if _count("customers_customer") >= n:
        print("customers: already there")
        return
    first = _weighted(FIRST_NAMES, rng, n)
    last = _weighted(LAST_NAMES, rng, n)
    for i in range(RARE_CUSTOMERS):
        first[i * (n // RARE_CUSTOMERS)] = f"Zuberi{i:03d}"
        last[i * (n // RARE_CUSTOMERS)] = f"Mwakilema{i:03d}"
    phones = rng.sample(range(200_000_000), n)
    span = YEARS * 365 * 86400

    def rows() -> Iterator[str]:
        for i in range(n):
            created = now - timedelta(seconds=span - span * i / n)
            digits = phones[i]
            phone = (
                f"+2547{digits:08d}" if digits < 100_000_000 else f"+2541{digits - 100_000_000:08d}"
            )
            stamp = created.isoformat()
            yield f"{_uuid_text(rng)}\t{first[i]}\t{last[i]}\t{phone}\t{stamp}\t{stamp}\t1\n"

    with transaction.atomic():
        saved = _drop_secondary("customers_customer")
        start = time.perf_counter()
        _copy(
            "customers_customer",
            [
                "uuid",
                "first_name",
                "last_name",
                "phone_number",
                "date_created",
                "date_modified",
                "version",
            ],
            rows(),
        )
        print(f"customers: COPY {time.perf_counter() - start:.1f} s", flush=True)
        _restore_secondary("customers_customer", saved)


def seed_items(rng: random.Random, now: datetime) -> None:
    if _count("items_item") >= len(COLOURS) * len(FABRICS) * len(GARMENTS):
        print("items: already there")
        return
    lines = []
    for colour in COLOURS:
        for fabric in FABRICS:
            for garment in GARMENTS:
                price = rng.randint(300, 6000)
                for size in SIZES:
                    stamp = now.isoformat()
                    lines.append(
                        f"{_uuid_text(rng)}\t{colour} {fabric} {garment}\t{size}\t{price}.00\t"
                        f"{stamp}\t{stamp}\t1\n"
                    )
    with transaction.atomic():
        _copy(
            "items_item",
            ["uuid", "name", "size", "price", "date_created", "date_modified", "version"],
            iter(lines),
        )


def seed_orders(n: int, rng: random.Random, now: datetime) -> None:
    if _count("orders_order") >= n:
        print("orders: already there")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM customers_customer")
        c_min, c_max = cursor.fetchone()
        cursor.execute("SELECT id, price FROM items_item ORDER BY id")
        items = [(row[0], f"{row[1]:.2f}", float(row[1])) for row in cursor.fetchall()]
    span = YEARS * 365 * 86400
    start_number = ORDER_NUMBER_START

    def rows() -> Iterator[str]:
        randint = rng.randint
        choice = rng.choice
        for i in range(n):
            age = span - span * i / n + rng.random() * 60
            created = now - timedelta(seconds=age)
            status = synthetic_status(rng, age / 86400)
            moved = (
                "\\N"
                if status == "placed"
                else min(now, created + timedelta(seconds=randint(600, 3 * 86400))).isoformat()
            )
            item_id, price, _ = choice(items)
            reference = f"EXT-{i:09d}" if i % 20 == 0 else ""
            stamp = created.isoformat()
            yield (
                f"{_uuid_text(rng)}\t{start_number + i}\t{reference}\t{randint(c_min, c_max)}\t"
                f"{item_id}\t{randint(1, 5)}\t{price}\t{status}\t{moved}\t{stamp}\t{stamp}\t1\n"
            )

    with transaction.atomic():
        saved = _drop_secondary("orders_order")
        start = time.perf_counter()
        _copy(
            "orders_order",
            [
                "uuid",
                "number",
                "external_reference",
                "customer_id",
                "item_id",
                "quantity",
                "unit_price",
                "status",
                "status_changed_at",
                "date_created",
                "date_modified",
                "version",
            ],
            rows(),
        )
        print(f"orders: COPY {time.perf_counter() - start:.1f} s", flush=True)
        _restore_secondary("orders_order", saved)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(%s, (SELECT max(number) FROM orders_order))",
                [ORDER_NUMBER_SEQUENCE],
            )
    start = time.perf_counter()
    with transaction.atomic():
        customer_order_stats_rebuild()
    print(f"customers' order figures: {time.perf_counter() - start:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only (DATABASE_URL)")
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    seed_customers(args.customers, rng, now)
    seed_items(rng, now)
    seed_orders(args.orders, rng, now)
    with connection.cursor() as cursor:
        for table in ("customers_customer", "items_item", "orders_order"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
