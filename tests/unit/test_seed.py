"""Seed data is a function of the seed alone."""

from __future__ import annotations

from harness.stacks.seed import SeedPlan, generate


def test_same_seed_same_rows_different_seed_different_rows() -> None:
    assert generate(SeedPlan(seed=7)) == generate(SeedPlan(seed=7))
    assert generate(SeedPlan(seed=7)) != generate(SeedPlan(seed=8))


def test_rows_respect_the_plan() -> None:
    plan = SeedPlan(seed=3, products=40, stock_min=5, stock_max=9, events=4, seats_min=10,
                    seats_max=12)
    data = generate(plan)
    assert [p[0] for p in data.products] == list(range(1, 41))
    assert all(5 <= stock <= 9 for *_, stock in data.products)
    assert [e[0] for e in data.events] == [1, 2, 3, 4]
    # a fresh event has every seat left
    assert all(10 <= total == left <= 12 for _, _, total, left in data.events)
