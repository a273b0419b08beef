"""The write side: orders and reservations, idempotency, validation, queue and receipts."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from contract_support import AppUnderTest, schema_errors

pytestmark = [pytest.mark.contract, pytest.mark.integration]


def _stock(app: AppUnderTest, pid: int) -> int:
    return int(app.backends.scalar("SELECT stock FROM products WHERE id = %s", (pid,)))


def _order_rows(app: AppUnderTest, key: str) -> list[tuple[int, int, int]]:
    return [(int(i), int(p), int(q)) for i, p, q in app.backends.query(
        "SELECT id, product_id, quantity FROM orders WHERE idempotency_key = %s", (key,))]


def test_order_is_created_and_decrements_stock(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(10)
    reply = app.post("/orders", {"product_id": pid, "quantity": 3, "idempotency_key": key})
    assert reply.status == 201, reply.text
    assert schema_errors(reply.json, "Order") == []
    assert reply.json["product_id"] == pid
    assert reply.json["quantity"] == 3
    assert reply.json["idempotency_key"] == key
    assert _stock(app, pid) == 7
    assert _order_rows(app, key) == [(reply.json["order_id"], pid, 3)]


def test_order_can_be_read_back(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(10)
    created = app.post("/orders", {"product_id": pid, "quantity": 2, "idempotency_key": key})
    assert created.status == 201
    reply = app.get(f"/orders/{created.json['order_id']}")
    assert reply.status == 200
    assert reply.json == created.json


def test_acknowledged_order_is_published_to_the_queue(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(10)
    reply = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key})
    assert reply.status == 201
    order_id = reply.json["order_id"]
    assert app.read_queue({order_id}) == set(), "order not on the queue"
    assert app.published[order_id][0] == reply.json


def test_modern_app_writes_a_receipt_to_s3(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    if app.bucket is None:
        pytest.skip("only the modern (Go) app writes receipts")
    pid = new_product(10)
    reply = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key})
    assert reply.status == 201
    obj = app.backends.aws("s3").get_object(
        Bucket=app.bucket, Key=f"receipts/{reply.json['order_id']}.json"
    )
    with obj["Body"] as body:
        assert json.loads(body.read()) == reply.json


def test_order_that_cannot_be_published_answers_503_and_its_retry_publishes_it(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    # api.yaml: committed but not published -> 503 (indeterminate); a retry publishes, 200
    pid = new_product(10)
    body = {"product_id": pid, "quantity": 1, "idempotency_key": key}
    toxi = app.backends.toxi
    toxi.set_enabled(app.aws_proxy, False)
    try:
        failed = app.post("/orders", body)
    finally:
        toxi.set_enabled(app.aws_proxy, True)
    assert failed.status == 503, failed.text
    assert failed.json["error"] == "unavailable"
    assert schema_errors(failed.json, "Error") == []
    [(order_id, _, _)] = _order_rows(app, key)
    retry = app.post("/orders", body)
    assert retry.status == 200, retry.text
    assert retry.json["order_id"] == order_id
    assert app.read_queue({order_id}) == set(), "the retry did not publish the order"
    assert _stock(app, pid) == 9


def test_same_key_replays_the_same_order_without_a_second_row(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(10)
    body = {"product_id": pid, "quantity": 2, "idempotency_key": key}
    first = app.post("/orders", body)
    second = app.post("/orders", body)
    assert first.status == 201
    assert second.status == 200
    assert second.json == first.json
    assert len(_order_rows(app, key)) == 1
    assert _stock(app, pid) == 8


def test_same_key_with_another_body_answers_the_original_order(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    # api.yaml: "A key replayed with a different body still answers the original (the key wins)"
    pid, other = new_product(10), new_product(10)
    first = app.post("/orders", {"product_id": pid, "quantity": 2, "idempotency_key": key})
    replay = app.post("/orders", {"product_id": other, "quantity": 5, "idempotency_key": key})
    assert first.status == 201
    assert replay.status == 200
    assert replay.json == first.json
    assert (_stock(app, pid), _stock(app, other)) == (8, 10)
    assert len(_order_rows(app, key)) == 1


def test_replay_publishes_the_order_again(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    # a retry after a 503 (committed, not published) must publish: replays publish too
    pid = new_product(10)
    body = {"product_id": pid, "quantity": 1, "idempotency_key": key}
    order_id = app.post("/orders", body).json["order_id"]
    assert app.read_queue({order_id}) == set()
    app.published.pop(order_id)
    assert app.post("/orders", body).status == 200
    assert app.read_queue({order_id}) == set(), "the replay was not published"


def test_keys_differing_in_case_are_different_orders(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(10)
    upper = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key.upper()})
    lower = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key})
    assert [upper.status, lower.status] == [201, 201]
    assert upper.json["order_id"] != lower.json["order_id"]


def test_keys_differing_in_trailing_space_are_different_orders(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid, other = new_product(10), new_product(10)
    plain = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key})
    spaced = app.post("/orders", {"product_id": other, "quantity": 1,
                                  "idempotency_key": key + " "})
    assert [plain.status, spaced.status] == [201, 201]
    assert spaced.json["idempotency_key"] == key + " "


@pytest.mark.parametrize("key", ["caf\u00e9", "\U0001f600" * 3], ids=["accent", "emoji"])
def test_non_ascii_key_is_a_client_error_not_an_outage(app: AppUnderTest, key: str) -> None:
    # the key column is ASCII (schema.sql); the database refusing it must not answer 503
    reply = app.post("/orders", {"product_id": 1, "quantity": 1, "idempotency_key": key})
    assert reply.status == 400, reply.text
    assert reply.json["error"] == "invalid_request"
    reply = app.post("/events/1/reservations", {"seats": 1, "idempotency_key": key})
    assert reply.status == 400, reply.text


def test_order_beyond_stock_is_refused_and_stock_never_goes_below_zero(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(3)
    too_many = app.post("/orders", {"product_id": pid, "quantity": 4, "idempotency_key": key})
    assert too_many.status == 409
    assert too_many.json["error"] == "out_of_stock"
    assert schema_errors(too_many.json, "Error") == []
    assert _stock(app, pid) == 3
    assert _order_rows(app, key) == []
    rest = app.post("/orders", {"product_id": pid, "quantity": 3, "idempotency_key": key + "-b"})
    assert rest.status == 201
    one_more = {"product_id": pid, "quantity": 1, "idempotency_key": key + "-c"}
    assert app.post("/orders", one_more).status == 409
    assert _stock(app, pid) == 0


def test_order_of_an_unknown_product_answers_404(app: AppUnderTest, key: str) -> None:
    reply = app.post("/orders", {"product_id": 999999, "quantity": 1, "idempotency_key": key})
    assert reply.status == 404
    assert reply.json["error"] == "not_found"
    assert _order_rows(app, key) == []


BAD_ORDERS = {
    "missing product_id": {"quantity": 1, "idempotency_key": "k"},
    "missing quantity": {"product_id": 1, "idempotency_key": "k"},
    "missing idempotency_key": {"product_id": 1, "quantity": 1},
    "negative quantity": {"product_id": 1, "quantity": -1, "idempotency_key": "k"},
    "zero quantity": {"product_id": 1, "quantity": 0, "idempotency_key": "k"},
    "quantity above 100": {"product_id": 1, "quantity": 101, "idempotency_key": "k"},
    "quantity as a string": {"product_id": 1, "quantity": "1", "idempotency_key": "k"},
    "fractional quantity": {"product_id": 1, "quantity": 1.5, "idempotency_key": "k"},
    "product_id as a string": {"product_id": "1", "quantity": 1, "idempotency_key": "k"},
    "empty idempotency_key": {"product_id": 1, "quantity": 1, "idempotency_key": ""},
    "idempotency_key of 65 characters": {"product_id": 1, "quantity": 1,
                                         "idempotency_key": "k" * 65},
    "idempotency_key as a number": {"product_id": 1, "quantity": 1, "idempotency_key": 7},
    "an array": [1, 2],
    "null": None,
}


@pytest.mark.parametrize("body", BAD_ORDERS.values(), ids=BAD_ORDERS.keys())
def test_invalid_order_body_answers_400(app: AppUnderTest, body: object) -> None:
    stock_before = _stock(app, 1)
    reply = app.request("POST", "/orders", data=json.dumps(body),
                        headers={"Content-Type": "application/json"})
    assert reply.status == 400, reply.text
    assert reply.json["error"] == "invalid_request"
    assert schema_errors(reply.json, "Error") == []
    assert _stock(app, 1) == stock_before


@pytest.mark.parametrize("data", ["not json", "{\"product_id\": 1,", ""],
                         ids=["text", "truncated", "empty"])
def test_non_json_order_body_answers_400(app: AppUnderTest, data: str) -> None:
    reply = app.request("POST", "/orders", data=data, headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json["error"] == "invalid_request"
    assert isinstance(reply.json["message"], str)


def test_idempotency_key_of_64_characters_is_accepted(
    app: AppUnderTest, new_product: Callable[[int], int], key: str
) -> None:
    pid = new_product(10)
    key = key.ljust(64, "x")
    reply = app.post("/orders", {"product_id": pid, "quantity": 1, "idempotency_key": key})
    assert reply.status == 201
    assert reply.json["idempotency_key"] == key


# -- reservations ---------------------------------------------------------------

def _seats_left(app: AppUnderTest, eid: int) -> int:
    return int(app.backends.scalar("SELECT seats_left FROM events WHERE id = %s", (eid,)))


def test_reservation_is_created_and_takes_seats(
    app: AppUnderTest, new_event: Callable[[int, int], int], key: str
) -> None:
    eid = new_event(50, 50)
    reply = app.post(f"/events/{eid}/reservations", {"seats": 4, "idempotency_key": key})
    assert reply.status == 201, reply.text
    assert schema_errors(reply.json, "Reservation") == []
    assert (reply.json["event_id"], reply.json["seats"], reply.json["idempotency_key"]) == (
        eid, 4, key)
    assert _seats_left(app, eid) == 46
    assert app.get(f"/events/{eid}").json["seats_left"] == 46


def test_reservation_replay_answers_the_same_reservation(
    app: AppUnderTest, new_event: Callable[[int, int], int], key: str
) -> None:
    eid = new_event(50, 50)
    first = app.post(f"/events/{eid}/reservations", {"seats": 2, "idempotency_key": key})
    again = app.post(f"/events/{eid}/reservations", {"seats": 9, "idempotency_key": key})
    assert (first.status, again.status) == (201, 200)
    assert again.json == first.json
    assert _seats_left(app, eid) == 48
    assert app.backends.scalar(
        "SELECT COUNT(*) FROM reservations WHERE idempotency_key = %s", (key,)) == 1


def test_reservation_beyond_seats_left_answers_409_sold_out(
    app: AppUnderTest, new_event: Callable[[int, int], int], key: str
) -> None:
    eid = new_event(100, 2)
    reply = app.post(f"/events/{eid}/reservations", {"seats": 3, "idempotency_key": key})
    assert reply.status == 409
    assert reply.json["error"] == "sold_out"
    assert schema_errors(reply.json, "Error") == []
    assert _seats_left(app, eid) == 2
    rest = app.post(f"/events/{eid}/reservations", {"seats": 2, "idempotency_key": key + "-b"})
    assert rest.status == 201
    assert app.post(f"/events/{eid}/reservations",
                    {"seats": 1, "idempotency_key": key + "-c"}).status == 409
    assert _seats_left(app, eid) == 0


def test_reservation_for_an_unknown_event_answers_404(app: AppUnderTest, key: str) -> None:
    reply = app.post("/events/999999/reservations", {"seats": 1, "idempotency_key": key})
    assert reply.status == 404
    assert reply.json["error"] == "not_found"


BAD_RESERVATIONS = {
    "missing seats": {"idempotency_key": "k"},
    "missing idempotency_key": {"seats": 1},
    "negative seats": {"seats": -2, "idempotency_key": "k"},
    "zero seats": {"seats": 0, "idempotency_key": "k"},
    "seats above 10": {"seats": 11, "idempotency_key": "k"},
    "seats as a string": {"seats": "1", "idempotency_key": "k"},
    "empty idempotency_key": {"seats": 1, "idempotency_key": ""},
}


@pytest.mark.parametrize("body", BAD_RESERVATIONS.values(), ids=BAD_RESERVATIONS.keys())
def test_invalid_reservation_body_answers_400(app: AppUnderTest, body: object) -> None:
    reply = app.request("POST", "/events/1/reservations", data=json.dumps(body),
                        headers={"Content-Type": "application/json"})
    assert reply.status == 400, reply.text
    assert reply.json["error"] == "invalid_request"
    assert schema_errors(reply.json, "Error") == []


def test_non_json_reservation_body_answers_400(app: AppUnderTest) -> None:
    reply = app.request("POST", "/events/1/reservations", data="seats=1",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 400
    assert reply.json["error"] == "invalid_request"
