"""Search texts (``core.search``) as conditions on a model.

A model's :class:`SearchSpec` says which of its fields, or its relations' fields, play which
part. Conditions on a related model (the customer's phone or name, the item's name) are
answered on that model first: one query (a ``UNION ALL`` of one ``SELECT id … LIMIT`` per
condition) finds the ids of the matching customers and items, and the condition on the list is
then those ids — ``customer_id IN (1, 5, 9)``, which PostgreSQL answers from the foreign key's
index knowing how many there are. When more than ``SEARCH_IDS_MAX`` match, the condition is the
subquery itself: so many rows match that the newest come first in a scan in the list's order.
A relation nothing matches drops out, so a name search usually ends as one condition on one
relation, which PostgreSQL plans as a join from its statistics.

Measured at 10 M orders (``bench/README.md``), the other ways are much slower: conditions on
the customers or items inside an OR are checked order by order in the list's order until the
page is full (3.6 s for a name one customer has; over 30 s through Django's own search over the
joins); an array built in the query (``= ANY(ARRAY(SELECT …))``) is rechecked element by
element for every row it finds (381 s for two common words).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_
from typing import Any

from django.db import connections, models, router
from django.db.models import Q

from .search import Term, search_terms

#: Ids of a related model a search lists in its condition; past this, a subquery.
SEARCH_IDS_MAX = 10_000


@dataclass(frozen=True)
class SearchSpec:
    """Which fields of a model a search reads, by the part they play (``core.search``).

    Paths may cross one foreign key (``customer__phone_number``).
    """

    #: The object's number (``#123`` or digits).
    number: str | None = None
    #: A ``UUIDField``, matched whole or by its first hex digits.
    uuid: str | None = None
    #: Phone numbers stored in E.164, matched by prefix.
    phones: tuple[str, ...] = ()
    #: Name fields: all the words must be found in the fields of one record.
    words: tuple[str, ...] = ()
    #: Fields the whole search text must equal (external references).
    exact: tuple[str, ...] = ()
    #: What a person may type, shown under the search box (``search_help_text``).
    help_text: str = ""

    def field_names(self) -> tuple[str, ...]:
        names = [self.number, self.uuid, *self.phones, *self.words, *self.exact]
        return tuple(name for name in names if name)


#: Turns a condition on a related model into one on the list's model (or ``None``: no match).
Related = Callable[[str, Q], Q | None]
#: The "relation" of a condition on the list's model itself, looked up with the related ones.
SELF = ""


def _either(parts: Iterable[Q | None]) -> Q | None:
    found = [p for p in parts if p is not None]
    return reduce(or_, found) if found else None


def _split(path: str) -> tuple[str | None, str]:
    relation, sep, rest = path.partition("__")
    return (relation, rest) if sep else (None, path)


class _Conditions:
    """The condition of each term on one model, with conditions on related models handed to
    ``related`` (which lists their ids, or collects them to be listed)."""

    def __init__(self, spec: SearchSpec, related: Related, *, exact_listed: bool) -> None:
        self.spec = spec
        self.related = related
        #: Whether the ``exact`` fields are looked up with the related conditions (below).
        self.exact_listed = exact_listed

    def any_field(self, paths: Iterable[str], lookup: str, value: Any) -> Q | None:
        local: list[Q] = []
        remote: dict[str, list[Q]] = {}
        for path in paths:
            relation, rest = _split(path)
            condition = Q(**{f"{rest}__{lookup}": value})
            if relation is None:
                local.append(condition)
            else:
                remote.setdefault(relation, []).append(condition)
        return _either(
            [
                _either(local),
                *(self.related(rel, reduce(or_, conds)) for rel, conds in remote.items()),
            ]
        )

    def words(self, words: list[str]) -> Q | None:
        """All ``words`` in the name fields of one record: the row's own, or a related one's."""
        groups: dict[str | None, list[str]] = {}
        for path in self.spec.words:
            relation, rest = _split(path)
            groups.setdefault(relation, []).append(path if relation is None else rest)
        found: list[Q | None] = []
        for relation, fields in groups.items():
            condition = reduce(
                and_,
                (reduce(or_, (Q(**{f"{f}__icontains": w}) for f in fields)) for w in words),
            )
            found.append(condition if relation is None else self.related(relation, condition))
        return _either(found)

    def term(self, term: Term) -> Q | None:
        spec = self.spec
        readings: list[Q | None] = []
        if term.number is not None and spec.number:
            readings.append(self.any_field([spec.number], "exact", term.number))
        if term.phone_prefix is not None and spec.phones:
            readings.append(self.any_field(spec.phones, "startswith", term.phone_prefix))
        if term.uuid_range is not None and spec.uuid:
            low, high = term.uuid_range
            if low == high:
                readings.append(self.any_field([spec.uuid], "exact", low))
            else:
                readings.append(self.any_field([spec.uuid], "range", (low, high)))
        if term.word is not None and spec.words:
            readings.append(self.words([term.word]))
        return _either(readings)

    def text(self, terms: list[Term], whole: str) -> Q | None:
        """Every term, and all the plain words in one record; or the whole text in an
        ``exact`` field."""
        words = [t.word for t in terms if t.readings == ("word",) and t.word is not None]
        parts = [self.term(t) for t in terms if t.readings != ("word",)]
        if words:
            parts.append(self.words(words) if self.spec.words else None)
        matched = None if any(p is None for p in parts) else reduce(and_, parts)
        return _either([matched, self.exact(whole)])

    def exact(self, whole: str) -> Q | None:
        if not self.spec.exact:
            return None
        if not self.exact_listed:
            return self.any_field(self.spec.exact, "exact", whole)
        # With conditions on related models looked up first, the exact keys are looked up in
        # the same query: no OR of a key with a subquery is left for the database (it would run
        # the subquery as a filter on every row instead of as a join).
        condition = reduce(or_, (Q(**{f"{f}__exact": whole}) for f in self.spec.exact))
        return self.related(SELF, condition)


def _related_model(model: type[models.Model], relation: str) -> type[models.Model]:
    if relation == SELF:
        return model
    remote = model._meta.get_field(relation).related_model
    assert remote is not None and not isinstance(remote, str)
    return remote


def _ids(
    model: type[models.Model], wanted: list[tuple[str, Q]], using: str
) -> dict[tuple[str, Q], list[Any] | None]:
    """The ids of the related rows each condition matches (``None`` past ``SEARCH_IDS_MAX``),
    in one query."""
    parts: list[str] = []
    params: list[Any] = []
    for index, (relation, condition) in enumerate(wanted):
        rows = (
            _related_model(model, relation)
            ._default_manager.using(using)
            .filter(condition)
            .order_by()
            .values_list("pk", flat=True)[: SEARCH_IDS_MAX + 1]
        )
        # One statement for every relation: Django's union() cannot LIMIT its parts on
        # SQLite, so the parts are the querysets' own SQL, each in a subquery.
        sql, part_params = rows.query.sql_with_params()
        parts.append(f"SELECT {index} AS part, found.* FROM ({sql}) found")  # noqa: S608
        params.extend(part_params)
    found: dict[int, list[Any]] = {i: [] for i in range(len(wanted))}
    with connections[using].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for part, pk in cursor.fetchall():
            found[part].append(pk)
    return {
        key: (ids if len(ids) <= SEARCH_IDS_MAX else None)
        for key, ids in zip(wanted, found.values(), strict=True)
    }


def search_filter(
    model: type[models.Model], spec: SearchSpec, text: str, *, using: str | None = None
) -> Q | None:
    """The condition matching ``text`` on ``model`` (``None`` for an empty text: no condition;
    ``Q(pk__in=[])`` when nothing can match). Conditions on related models are looked up first,
    in one query on ``using``. ``SearchTextError`` when the text is over a limit."""
    terms = search_terms(text)
    if not terms:
        return None
    whole = text.strip()
    wanted: list[tuple[str, Q]] = []

    def collect(relation: str, condition: Q) -> Q | None:
        if (relation, condition) not in wanted:
            wanted.append((relation, condition))
        return Q()

    _Conditions(spec, collect, exact_listed=False).text(terms, whole)
    exact_listed = bool(wanted)
    if exact_listed:
        _Conditions(spec, collect, exact_listed=True).exact(whole)
    listed = _ids(model, wanted, using or router.db_for_read(model)) if wanted else {}

    def related(relation: str, condition: Q) -> Q | None:
        ids = listed[(relation, condition)]
        field = "pk" if relation == SELF else relation
        if ids is None:
            rows = _related_model(model, relation)._default_manager.filter(condition)
            return Q(**{f"{field}__in": rows.order_by().values("pk")})
        return Q(**{f"{field}__in": ids}) if ids else None

    condition = _Conditions(spec, related, exact_listed=exact_listed).text(terms, whole)
    return condition if condition is not None else Q(pk__in=[])


def search_queryset(queryset: models.QuerySet, spec: SearchSpec, text: str) -> models.QuerySet:
    """``queryset`` narrowed to what ``text`` matches (unchanged for an empty text)."""
    condition = search_filter(queryset.model, spec, text, using=queryset.db)
    return queryset if condition is None else queryset.filter(condition)
