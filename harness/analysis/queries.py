"""A team's own checks judged from what the read-back found after the drain.

Their SQL invariants (harness.scenario.own): `harness.readback` runs each query on the
writer and records what it found as a `QueryCheck`; `judge` compares that with the
expectation and makes the `Invariant` the report shows beside the built-in ones. A
query the database refused is a failed invariant carrying the database's message.

Their acknowledged writes (harness.load.acked): `write_keys` says which keys to look
up in which table and column, the read-back answers with a `KeyLookup` each, and
`write_checks` finds the lost, unexpected and recovered ones as Jepsen's set checker
does for the built-in orders and reservations.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.analysis.invariants import (
    ACKED,
    EXAMPLES,
    FAILED,
    INDETERMINATE,
    KINDS,
    Cell,
    Folded,
    Invariant,
    QueryCheck,
    Write,
)
from harness.scenario.own import SqlInvariant


def judge(spec: SqlInvariant, found: QueryCheck) -> Invariant:
    """The invariant's verdict from its query's result."""
    expect = spec.expect
    if found.error is not None or found.row_count is None:
        return _failed(spec, found, f"query failed: {found.error or 'no result'}")
    if expect.rows is not None:
        ok = expect.holds(found.row_count)
        examples = [_row_text(found.columns, row) for row in found.rows] if not ok else []
        if not ok and found.row_count > len(found.rows):
            examples.append(f"... {found.row_count - len(found.rows)} more rows")
        if (expect.rows, expect.op) == (0, "=="):
            return Invariant(spec.name, ok, found.row_count, spec.description,
                             tuple(examples), query=found)
        said = f"{found.row_count} rows; expected {expect.text}"
        return Invariant(spec.name, ok, int(not ok), spec.description,
                         (said, *examples), query=found)
    if found.row_count != 1 or len(found.columns) != 1:
        return _failed(spec, found, f"expected one row of one column for {expect.text}; the "
                       f"query gave {found.row_count} rows of {len(found.columns)} columns")
    measured = _number(found.rows[0][0])
    if measured is None:
        return _failed(spec, found, f"the query gave {found.rows[0][0]!r}, not a number; "
                       f"expected {expect.text} (COALESCE(SUM(...), 0) makes an empty sum 0)")
    ok = expect.holds(measured)
    checked = dataclasses.replace(found, measured=measured)
    return Invariant(spec.name, ok, int(not ok), spec.description,
                     (f"value {measured:g}; expected {expect.text}",), query=checked)


def judge_all(specs: Sequence[SqlInvariant], found: Sequence[QueryCheck]) -> list[Invariant]:
    """Every own invariant, in the scenario's order."""
    return [judge(spec, result) for spec, result in zip(specs, found, strict=True)]


def _failed(spec: SqlInvariant, found: QueryCheck, why: str) -> Invariant:
    return Invariant(spec.name, False, 1, spec.description, (why,), query=found)


def _number(cell: Cell) -> float | None:
    if isinstance(cell, int | float):
        return float(cell) if math.isfinite(cell) else None
    if isinstance(cell, str):
        try:
            number = float(cell)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _row_text(columns: Sequence[str], row: Sequence[Cell]) -> str:
    """`id=3, balance=-20`: a found row, named by its columns, within one line."""
    text = ", ".join(f"{c}={v!r}" if isinstance(v, str) else f"{c}={v}"
                     for c, v in zip(columns, row, strict=False))
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class KeyLookup:
    """Which keys of a team's writes the read-back found in `table`.`column`."""

    table: str
    column: str
    present: frozenset[str] = frozenset()
    #: the database's message when the look-up failed (no such table or column)
    error: str | None = None

    @property
    def kind(self) -> str:
        return f"{self.table}.{self.column}"


def _where(kind: str) -> tuple[str, str]:
    table, column = kind.rsplit(".", 1)
    return table, column


def write_keys(writes: Iterable[Write]) -> dict[tuple[str, str], set[str]]:
    """(table, column) -> every key a locustfile's `record_write` noted (any outcome)."""
    keys: dict[tuple[str, str], set[str]] = defaultdict(set)
    for w in writes:
        if w.kind not in KINDS and "." in w.kind:
            keys[_where(w.kind)].add(w.idempotency_key)
    return dict(keys)


def write_checks(writes: Iterable[Write], found: Sequence[KeyLookup]) -> list[Invariant]:
    """Lost, unexpected and recovered writes per table and column the locustfile named."""
    kinds = {lookup.kind for lookup in found}
    folded = Folded.by_kind(w for w in writes if w.kind in kinds)
    checks: list[Invariant] = []
    for lookup in found:
        kind, by_key = lookup.kind, folded.get(lookup.kind, Folded()).masks
        lost_name = f"{kind}_lost"
        lost_text = (f"acknowledged writes missing from {lookup.table} (looked up by "
                     f"{lookup.column})")
        if lookup.error is not None:
            checks.append(Invariant(lost_name, False, 1, lost_text,
                                    (f"look-up failed: {lookup.error}",)))
            continue
        lost = sorted(k for k, m in by_key.items() if m & ACKED and k not in lookup.present)
        unexpected = sorted(k for k, m in by_key.items() if m == FAILED and k in lookup.present)
        recovered = sorted(k for k, m in by_key.items()
                           if m == INDETERMINATE and k in lookup.present)
        checks += [
            _keys(lost_name, lost_text, lost),
            _keys(f"{kind}_unexpected", f"writes to {lookup.table} that definitely failed "
                  "(4xx, refused) yet are there", unexpected),
            _keys(f"{kind}_recovered", f"indeterminate writes to {lookup.table} (timeouts, "
                  "5xx) that did happen (informational)", recovered, informational=True),
        ]
    return checks


def _keys(name: str, description: str, keys: list[str], *, informational: bool = False
          ) -> Invariant:
    return Invariant(name, informational or not keys, len(keys), description,
                     tuple(f"key {k}" for k in keys[:EXAMPLES]))
