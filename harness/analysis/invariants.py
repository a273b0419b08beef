"""Lost-data checks after the drain, from the database and the queue themselves.

The way Jepsen's set checker works: every write the load generator attempted has
an idempotency key and an outcome, acknowledged (2xx), failed (a definite 4xx
answer) or indeterminate (5xx, timeout, connection error: it may or may not have
happened). After the run the final state is read back and compared:

- lost: acknowledged, but missing from the database (or, for orders, the queue);
- recovered: indeterminate, and present (informational: not an error);
- unexpected: present, yet definitely failed or never attempted;
- plus the shop's own rules: no stock below zero, no event oversold, stock and
  seats conserved (initial - sold = left), one row per idempotency key.

`evaluate` is pure, so it is tested with hand-made states; `harness.readback` reads
the real ones from the database and the queue after the drain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["order", "reservation"]
KINDS: tuple[Kind, ...] = ("order", "reservation")
OUTCOMES: tuple[str, ...] = ("acknowledged", "failed", "indeterminate")
#: examples shown per violated invariant: enough to debug, small enough for run.json
EXAMPLES = 5


class Write(Protocol):
    """One attempted write, as the load generator logged it (harness.load.writes.Write)."""

    @property
    def kind(self) -> str: ...  # "order" or "reservation"
    @property
    def idempotency_key(self) -> str: ...
    @property
    def outcome(self) -> str: ...  # acknowledged, failed or indeterminate
    #: the order or reservation id the service answered with, when it answered 2xx
    @property
    def id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    idempotency_key: str
    target: int
    amount: int


@dataclass
class DatabaseState:
    """What the database holds after the drain."""

    orders: list[Row] = field(default_factory=list)
    reservations: list[Row] = field(default_factory=list)
    #: product id -> stock, event id -> seats left (and seats total)
    stock: dict[int, int] = field(default_factory=dict)
    seats_left: dict[int, int] = field(default_factory=dict)
    seats_total: dict[int, int] = field(default_factory=dict)


#: one value of a row a scenario's own query found, made JSON-safe by the read-back
Cell = int | float | str | None


@dataclass(frozen=True)
class QueryCheck:
    """A scenario's own SQL invariant as it ran (harness.scenario.own, harness.analysis.queries).

    What it asked and expected, and what the writer answered after the drain: the
    columns, the first EXAMPLES rows, how many rows there were, or the database's error.
    """

    sql: str
    #: "no rows", "rows >= 3", "value == 0"
    expect: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    #: every row the query gave; None when it failed
    row_count: int | None = None
    #: the one value a `value:` expectation compared; None otherwise or when there was none
    measured: float | None = None
    #: the database's message when the query failed (a failed invariant, not a crash)
    error: str | None = None


@dataclass(frozen=True)
class Invariant:
    """One checked property: ok or not, the measured count and a few examples.

    A scenario's own check carries its query: its `value` is then the rows that violate
    it for `no rows`, otherwise 1 when it failed and 0 when it held.
    """

    name: str
    ok: bool
    value: int
    description: str
    examples: tuple[str, ...] = ()
    query: QueryCheck | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name, "ok": self.ok, "value": self.value,
            "description": self.description, "examples": list(self.examples),
        }
        if self.query is not None:
            body["query"] = asdict(self.query)
        return body


def count_writes(writes: Iterable[Write]) -> dict[str, dict[str, int]]:
    """How many writes of each kind the checks looked at, by outcome.

    "No data lost" is only a claim when at least one acknowledged write was checked:
    a run in which nothing was acknowledged has shown nothing about lost data.
    """
    counts: dict[str, dict[str, int]] = {k: dict.fromkeys(OUTCOMES, 0) for k in KINDS}
    for w in writes:
        counts.setdefault(w.kind, dict.fromkeys(OUTCOMES, 0))[w.outcome] += 1
    return counts


def _check(name: str, description: str, bad: list[str], *, informational: bool = False
           ) -> Invariant:
    return Invariant(name, informational or not bad, len(bad), description,
                     tuple(bad[:EXAMPLES]))


def evaluate(
    writes: Iterable[Write],
    db: DatabaseState,
    *,
    initial_stock: dict[int, int],
    queued_order_ids: set[int] | None,
) -> list[Invariant]:
    """Every invariant, from the attempted writes and the state read back."""
    # an hour holds ~3 * 10^5 writes: they are folded into one small map per kind and
    # key in one pass, never held as a list
    folded = Folded.by_kind(writes)
    results: list[Invariant] = []
    tables: list[tuple[Kind, list[Row]]] = [
        ("order", db.orders), ("reservation", db.reservations)
    ]
    for kind, rows in tables:
        results += _set_checks(kind, folded.get(kind, Folded()), rows)
    if queued_order_ids is not None:
        orders = folded.get("order", Folded())
        acked = {*orders.first_id.values(), *(i for ids in orders.more_ids.values() for i in ids)}
        missing = sorted(acked - queued_order_ids)
        results.append(_check(
            "orders_missing_from_queue", "acknowledged orders never published to SQS",
            [f"order {i}" for i in missing],
        ))
    results.append(_check(
        "stock_below_zero", "products whose stock went below zero",
        [f"product {p}: stock {s}" for p, s in sorted(db.stock.items()) if s < 0],
    ))
    sold = _per_target(db.orders)
    results.append(_check(
        "stock_conserved", "initial stock - ordered quantity = stock left, per product",
        [f"product {p}: {initial_stock[p]} - {sold[p]} != {s}"
         for p, s in sorted(db.stock.items()) if p in initial_stock
         and initial_stock[p] - sold[p] != s],
    ))
    reserved = _per_target(db.reservations)
    results.append(_check(
        "seats_oversold", "events with more seats reserved than they have",
        [f"event {e}: {reserved[e]} reserved of {total}"
         for e, total in sorted(db.seats_total.items())
         if reserved[e] > total or db.seats_left.get(e, 0) < 0],
    ))
    results.append(_check(
        "seats_conserved", "seats total - seats reserved = seats left, per event",
        [f"event {e}: {total} - {reserved[e]} != {db.seats_left[e]}"
         for e, total in sorted(db.seats_total.items())
         if total - reserved[e] != db.seats_left.get(e)],
    ))
    return results


def _per_target(rows: list[Row]) -> Counter[int]:
    """Units ordered per product, or seats reserved per event."""
    totals: Counter[int] = Counter()
    for row in rows:
        totals[row.target] += row.amount
    return totals


#: the outcomes a key met, as the bits of Folded.masks
ACKED, FAILED, INDETERMINATE = 1, 2, 4
_BIT = {"acknowledged": ACKED, "failed": FAILED, "indeterminate": INDETERMINATE}


@dataclass
class Folded:
    """One kind's writes per idempotency key: which outcomes it met, which ids it was given.

    Why not a set per key: at ~250 bytes each an hour's sets alone outgrew the harness's
    memory budget; a bit mask is a shared small int.
    """

    masks: dict[str, int] = field(default_factory=dict)
    #: the id of a key's first acknowledged answer
    first_id: dict[str, int] = field(default_factory=dict)
    #: a key answered with further, different ids (a bug the checks report): all of them
    more_ids: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def by_kind(cls, writes: Iterable[Write]) -> dict[str, Folded]:
        """The writes folded per kind, in one pass."""
        folded: dict[str, Folded] = {}
        for w in writes:
            into = folded.get(w.kind) or folded.setdefault(w.kind, cls())
            key = w.idempotency_key
            into.masks[key] = into.masks.get(key, 0) | _BIT[w.outcome]
            if w.outcome != "acknowledged" or w.id is None:
                continue
            known = into.first_id.setdefault(key, w.id)
            if known != w.id:
                into.more_ids.setdefault(key, {known}).add(w.id)
        return folded

    def ids(self, key: str) -> list[int]:
        """Every id the key's acknowledged answers gave, sorted."""
        return sorted(self.more_ids.get(key) or ([self.first_id[key]] if key in self.first_id
                                                  else []))


def _set_checks(kind: Kind, folded: Folded, rows: list[Row]) -> list[Invariant]:
    masks = folded.masks
    present = {r.idempotency_key: r.id for r in rows}
    lost = sorted(k for k, m in masks.items() if m & ACKED and k not in present)
    # a key answered twice (retries, replays) must always name the same row
    wrong_id = sorted(
        {*folded.more_ids}
        | {k for k, i in folded.first_id.items() if k in present and present[k] != i}
    )
    counts = Counter(r.idempotency_key for r in rows)
    plural = f"{kind}s"
    return [
        _check(f"{plural}_lost", f"acknowledged {plural} missing from the database",
               [f"{kind} key {k} (id {folded.ids(k)})" for k in lost]),
        _check(f"{plural}_unexpected",
               f"{plural} in the database that were never attempted or definitely failed",
               [f"{kind} key {r.idempotency_key} (id {r.id})" for r in rows
                if masks.get(r.idempotency_key, FAILED) == FAILED]),
        _check(f"{plural}_duplicate_keys", f"{plural} stored or answered twice for one key",
               [f"key {k}: {n} rows" for k, n in counts.items() if n > 1]
               + [f"key {k}: answered ids {folded.ids(k)}" for k in wrong_id]),
        _check(f"{plural}_recovered",
               f"indeterminate {plural} (timeouts, 5xx) that did happen (informational)",
               [f"{kind} key {k}" for k, m in sorted(masks.items())
                if m == INDETERMINATE and k in present],
               informational=True),
    ]
