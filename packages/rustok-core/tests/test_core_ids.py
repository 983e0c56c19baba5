"""Ids are UUIDs built from ULIDs: time-sortable, accepted as either text form."""

from __future__ import annotations

import time
import uuid

import pytest
from ulid import ULID

from rustok_core import ErrorCode, Validation, generate_id, parse_id
from rustok_core.ids import UlidTexts, find_id, id_to_ulid


def test_generate_id_returns_a_uuid() -> None:
    assert isinstance(generate_id(), uuid.UUID)


def test_generate_id_is_unique() -> None:
    assert len({generate_id() for _ in range(1000)}) == 1000


def test_generate_id_sorts_by_creation_time() -> None:
    ids = []
    for _ in range(5):
        ids.append(generate_id())
        time.sleep(0.002)  # ULIDs order by millisecond; within one ms they are random
    assert ids == sorted(ids)
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)


def test_generate_id_embeds_the_current_millisecond_timestamp() -> None:
    before = int(time.time() * 1000)
    new_id = generate_id()
    after = int(time.time() * 1000)
    assert before <= ULID.from_uuid(new_id).milliseconds <= after
    assert new_id.int >> 80 == ULID.from_uuid(new_id).milliseconds


def test_parse_id_accepts_ulid_text() -> None:
    value = generate_id()
    text = id_to_ulid(value)
    assert len(text) == 26
    assert parse_id(text) == value


def test_parse_id_accepts_lower_case_ulid_text() -> None:
    value = generate_id()
    assert parse_id(id_to_ulid(value).lower()) == value


def test_parse_id_accepts_uuid_text_in_either_case() -> None:
    value = generate_id()
    assert parse_id(str(value)) == value
    assert parse_id(str(value).upper()) == value


def test_parse_id_ignores_surrounding_whitespace() -> None:
    value = generate_id()
    assert parse_id(f"  {id_to_ulid(value)}\n") == value
    assert parse_id(f" {value} ") == value


def test_parse_id_returns_uuid_objects_unchanged() -> None:
    value = uuid.uuid4()
    assert parse_id(value) is value


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "nope",
        "U" * 26,  # 26 characters but 'U' is not Crockford base32
        "01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 characters
        "12345678-1234-1234-1234-12345678901z",
        "not-a-uuid-at-all-but-thirty-six-ch",
    ],
)
def test_parse_id_rejects_garbage_with_a_validation_error(garbage: str) -> None:
    with pytest.raises(Validation) as caught:
        parse_id(garbage)
    assert caught.value.code is ErrorCode.VALIDATION
    assert caught.value.http_status == 422


def test_parse_id_names_the_field_in_the_error() -> None:
    with pytest.raises(Validation) as caught:
        parse_id("garbage", field="input.tenantId")
    error = caught.value
    assert "input.tenantId" in error.message
    assert "'garbage'" in error.message
    assert [fe.path for fe in error.field_errors] == [("input", "tenantId")]


def test_parse_id_default_field_is_id() -> None:
    with pytest.raises(Validation) as caught:
        parse_id("garbage")
    assert caught.value.field_errors[0].path == ("id",)


def test_parse_id_rejects_non_strings() -> None:
    with pytest.raises(Validation) as caught:
        parse_id(12345, field="postId")  # type: ignore[arg-type]
    assert caught.value.field_errors[0].path == ("postId",)


def test_id_to_ulid_round_trips() -> None:
    value = generate_id()
    text = id_to_ulid(value)
    assert text == text.upper()
    assert parse_id(text) == value
    assert id_to_ulid(parse_id(text)) == text


def test_id_to_ulid_works_for_any_uuid() -> None:
    value = uuid.uuid4()
    assert parse_id(id_to_ulid(value)) == value


# -- ULID texts (request ids) --------------------------------------------------------


def test_ulid_texts_are_ulids_of_the_current_millisecond() -> None:
    texts = UlidTexts()
    before = int(time.time() * 1000)
    text = texts.next()
    after = int(time.time() * 1000)
    assert len(text) == 26
    assert str(ULID.from_str(text)) == text
    assert before <= ULID.from_str(text).milliseconds <= after


def test_ulid_texts_are_unique_and_sorted_in_a_burst() -> None:
    texts = UlidTexts()
    burst = [texts.next() for _ in range(5000)]
    assert len(set(burst)) == len(burst)
    assert burst == sorted(burst)


def test_ulid_texts_count_on_past_the_tail_within_one_millisecond() -> None:
    """Randomness whose last 20 bits are all ones: the next text carries into the head."""
    texts = UlidTexts(
        clock=lambda: 1_700_000_000_123_000_000,
        randomness=lambda n: bytes([0x12] * (n - 3) + [0x0F, 0xFF, 0xFF]),
    )
    burst = [texts.next() for _ in range(3)]
    values = [ULID.from_str(text) for text in burst]
    assert {value.milliseconds for value in values} == {1_700_000_000_123}
    assert [int(value) for value in values][1:] == [int(values[0]) + 1, int(values[0]) + 2]
    assert burst == sorted(burst)
    assert len(set(burst)) == 3


def test_ulid_texts_start_afresh_in_a_new_millisecond() -> None:
    now = [1_700_000_000_000_000_000]
    texts = UlidTexts(clock=lambda: now[0])
    first = texts.next()
    now[0] += 1_000_000
    second = texts.next()
    assert ULID.from_str(second).milliseconds == ULID.from_str(first).milliseconds + 1
    assert first < second


# -- find_id: text that may or may not be an id -----------------------------------------------


def test_find_id_reads_both_forms_and_answers_none_for_anything_else() -> None:
    value = uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057")
    ulid_text = id_to_ulid(value)
    for text in (ulid_text, ulid_text.lower(), f" {ulid_text} ", str(value), value.hex, f"{{{value}}}", value.urn):
        assert find_id(text) == value, text
        assert parse_id(text) == value, text
    for text in ("", "acme", "shop-1", "x" * 26, value.hex[:31], str(value)[:-1] + "g", "8" + ulid_text[1:]):
        assert find_id(text) is None, text
        with pytest.raises(Validation):
            parse_id(text)
