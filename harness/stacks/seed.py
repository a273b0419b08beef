"""Seed data: products with stock and events with seats, the same for the same seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.stacks.components.mariadb import DATABASE, admin


@dataclass(frozen=True)
class SeedPlan:
    """How much to seed. Product ids are 1..products, event ids 1..events."""

    seed: int = 1
    products: int = 100
    stock_min: int = 50
    stock_max: int = 500
    events: int = 5
    seats_min: int = 100
    seats_max: int = 1000


@dataclass(frozen=True)
class SeedData:
    products: list[tuple[int, str, int, int]]
    events: list[tuple[int, str, int, int]]


def generate(plan: SeedPlan) -> SeedData:
    """The rows to insert, from an explicit seeded generator (never the global one)."""
    rng = random.Random(plan.seed)
    products = [
        (i, f"product-{i}", rng.randint(199, 19999), rng.randint(plan.stock_min, plan.stock_max))
        for i in range(1, plan.products + 1)
    ]
    events = []
    for i in range(1, plan.events + 1):
        seats = rng.randint(plan.seats_min, plan.seats_max)
        events.append((i, f"event-{i}", seats, seats))
    return SeedData(products=products, events=events)


def seed(port: int, plan: SeedPlan) -> SeedData:
    """Replace the shop's data with the plan's rows on the writer at `port`."""
    data = generate(plan)
    with admin(port, DATABASE) as conn, conn.cursor() as cur:
        conn.begin()
        for table in ("orders", "reservations", "products", "events"):
            cur.execute(f"DELETE FROM {table}")
        cur.executemany(
            "INSERT INTO products (id, name, price_cents, stock) VALUES (%s, %s, %s, %s)",
            data.products,
        )
        cur.executemany(
            "INSERT INTO events (id, name, seats_total, seats_left) VALUES (%s, %s, %s, %s)",
            data.events,
        )
        conn.commit()
    return data
