"""The price resolution rules and money checks, as pure functions."""

from __future__ import annotations

import uuid

import pytest

from rustok_commerce.services.money import check_amount, check_currency, minor_digits, percent_of
from rustok_commerce.services.pricing import PriceRow, pick
from rustok_core.errors import Validation

V = uuid.uuid4()
SALE, OVERRIDE, OTHER_SALE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def base(amount: int, min_quantity: int = 1) -> PriceRow:
    return PriceRow(V, amount, min_quantity)


def listed(list_id: uuid.UUID, kind: str, amount: int, min_quantity: int = 1) -> PriceRow:
    return PriceRow(V, amount, min_quantity, list_id, kind)


def test_the_highest_tier_not_above_the_quantity_applies() -> None:
    rows = [base(1000), base(900, 10), base(800, 50)]
    assert [pick(V, "EUR", q, rows).amount for q in (1, 9, 10, 49, 50, 500)] == [  # type: ignore[union-attr]
        1000,
        1000,
        900,
        900,
        800,
        800,
    ]


def test_no_price_in_the_currency_or_below_the_first_tier_means_no_price() -> None:
    assert pick(V, "EUR", 1, []) is None
    assert pick(V, "EUR", 4, [base(500, 5)]) is None


def test_a_sale_applies_only_when_lower_and_keeps_the_original() -> None:
    cheaper = pick(V, "EUR", 1, [base(1000), listed(SALE, "sale", 750)])
    assert cheaper is not None
    assert (cheaper.amount, cheaper.original_amount, cheaper.price_list_id, cheaper.on_sale) == (750, 1000, SALE, True)
    dearer = pick(V, "EUR", 1, [base(1000), listed(SALE, "sale", 1200)])
    assert dearer is not None and (dearer.amount, dearer.price_list_id, dearer.on_sale) == (1000, None, False)


def test_an_override_replaces_the_base_even_when_higher_and_a_sale_still_beats_it() -> None:
    higher = pick(V, "EUR", 1, [base(1000), listed(OVERRIDE, "override", 1100)])
    assert higher is not None and (higher.amount, higher.price_list_id) == (1100, OVERRIDE)
    both = pick(V, "EUR", 1, [base(1000), listed(OVERRIDE, "override", 1100), listed(SALE, "sale", 1050)])
    assert both is not None and (both.amount, both.original_amount, both.price_list_id) == (1050, 1100, SALE)


def test_the_lowest_of_several_sales_wins_and_tiers_apply_per_list() -> None:
    rows = [
        base(1000),
        base(700, 10),
        listed(SALE, "sale", 900),
        listed(OTHER_SALE, "sale", 850),
        listed(OTHER_SALE, "sale", 650, 10),
    ]
    one = pick(V, "EUR", 1, rows)
    ten = pick(V, "EUR", 10, rows)
    assert one is not None and (one.amount, one.price_list_id) == (850, OTHER_SALE)
    assert ten is not None and (ten.amount, ten.original_amount, ten.min_quantity) == (650, 700, 10)


def test_a_sale_without_a_base_price_still_sells() -> None:
    only = pick(V, "EUR", 1, [listed(SALE, "sale", 300)])
    assert only is not None and (only.amount, only.original_amount) == (300, 300)


@pytest.mark.parametrize("bad", [-1, 10.5, 1.0, "100", True, None, 10**16])
def test_money_must_be_a_non_negative_integer_of_minor_units(bad: object) -> None:
    with pytest.raises(Validation) as caught:
        check_amount(bad)
    assert caught.value.details["reason"] == "INVALID_AMOUNT"


def test_zero_is_money_unless_positive_is_asked_for() -> None:
    assert check_amount(0) == 0
    with pytest.raises(Validation):
        check_amount(0, positive=True)


@pytest.mark.parametrize("bad", ["EURO", "XYZ", "", "12A", None, 978])
def test_unknown_currencies_are_refused(bad: object) -> None:
    with pytest.raises(Validation) as caught:
        check_currency(bad)
    assert caught.value.details["reason"] == "UNKNOWN_CURRENCY"


def test_currencies_are_normalized_and_know_their_minor_digits() -> None:
    assert check_currency("eur") == "EUR"
    assert [minor_digits(c) for c in ("EUR", "JPY", "KWD")] == [2, 0, 3]


def test_percentages_round_half_up_to_the_minor_unit() -> None:
    assert percent_of(1000, 2000) == 200
    assert percent_of(1, 5000) == 1  # 0.5 rounds up
    assert percent_of(999, 1900) == 190  # 189.81
