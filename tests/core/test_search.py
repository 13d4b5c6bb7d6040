"""How a search text is read (``core.search``): numbers, uuids and their first hex digits,
phone numbers in any local or international form, words; the limits."""

from uuid import UUID

import pytest

from apps.core.search import (
    SearchTextError,
    phone_prefix,
    search_terms,
    search_text_problem,
)


def _one(text: str):
    (term,) = search_terms(text)
    return term


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [
        ("0722 555 101", "+254722555101"),
        ("0722555101", "+254722555101"),
        ("0722-555-101", "+254722555101"),
        ("(0722) 555.101", "+254722555101"),
        ("+254 722 555 101", "+254722555101"),
        ("+254722555101", "+254722555101"),
        ("00254722555101", "+254722555101"),
        ("254722555101", "+254722555101"),
        ("722555101", "+254722555101"),
        ("0722 555", "+254722555"),
        ("+44 20 7946 0000", "+442079460000"),
        ("072", None),  # too few digits to mean anything
    ],
)
def test_phone_numbers_in_any_form_become_an_e164_prefix(typed, prefix):
    assert phone_prefix(typed) == prefix


def test_the_default_region_decides_local_numbers(settings):
    settings.PHONENUMBER_DEFAULT_REGION = "GB"
    assert phone_prefix("020 7946 0000") == "+442079460000"
    assert phone_prefix("07911 123456") == "+447911123456"


def test_a_number_with_or_without_hash():
    assert _one("#100234").readings == ("number",)
    assert _one("#100234").number == 100234
    digits = _one("100234")
    assert (digits.number, digits.phone_prefix) == (100234, "+254100234")
    assert _one("#" + "9" * 19).readings == ()  # larger than any number: nothing


def test_a_phone_typed_in_groups_is_one_term():
    (term,) = search_terms("0722 555 101")
    assert (term.number, term.phone_prefix) == (None, "+254722555101")


@pytest.mark.parametrize(
    ("typed", "low", "high"),
    [
        (
            "DF703017",
            "df703017-0000-0000-0000-000000000000",
            "df703017-ffff-ffff-ffff-ffffffffffff",
        ),
        (
            "df703017",
            "df703017-0000-0000-0000-000000000000",
            "df703017-ffff-ffff-ffff-ffffffffffff",
        ),
        (
            "{DF703017}",
            "df703017-0000-0000-0000-000000000000",
            "df703017-ffff-ffff-ffff-ffffffffffff",
        ),
        (
            "df703017-1",
            "df703017-1000-0000-0000-000000000000",
            "df703017-1fff-ffff-ffff-ffffffffffff",
        ),
    ],
)
def test_a_reference_is_the_range_of_uuids_starting_with_it(typed, low, high):
    term = _one(typed)
    assert term.uuid_range == (UUID(low), UUID(high))
    assert term.word is None  # hex with a digit: a reference, not a name


def test_a_whole_uuid_is_that_uuid():
    value = "0b9a3c5e-7f21-4a54-9d3e-5c8a1e2f4b6d"
    for typed in (value, value.upper(), value.replace("-", "")):
        low, high = _one(typed).uuid_range
        assert low == high == UUID(value)


def test_hex_made_of_letters_may_be_a_reference_or_a_word():
    term = _one("acceeded")
    assert term.readings == ("uuid", "word")
    assert (term.word, str(term.uuid_range[0])[:8]) == ("acceeded", "acceeded")


def test_short_hex_and_misplaced_dashes_are_words():
    assert _one("cafe").readings == ("word",)
    assert _one("df70-3017").readings == ("word",)


def test_words_are_distinct_and_quotes_keep_them_together():
    terms = search_terms('Wanjiru  "Mary Ann" wanjiru')
    assert [t.word for t in terms] == ["Wanjiru", "Mary Ann"]


def test_limits(settings):
    settings.SEARCH_MAX_TERMS = 3
    settings.SEARCH_MAX_CHARS = 20
    assert search_text_problem("a b c") is None
    assert search_text_problem("a b c d") == "Search is limited to 3 words; this search has 4."
    assert search_text_problem("x" * 21) == "Search text is limited to 20 characters."
    assert search_text_problem("a\x00b") == "Search text cannot contain a NUL character."
    with pytest.raises(SearchTextError):
        search_terms("a b c d")
    assert search_terms("   ") == []


@pytest.mark.parametrize("typed", ["³", "#³", "²³⁴", "٣٤٥", "#٣٤٥", "①②③", "१२३४५६७", "+²⁵⁴ ⁷²²"])
def test_digits_other_than_0_to_9_are_words(typed):
    """``str.isdigit`` says yes to superscripts, circled and other scripts' digits: none of them
    is an order number, a phone or a reference."""
    terms = search_terms(typed)
    assert terms, typed
    for term in terms:
        assert term.number is None and term.phone_prefix is None, (typed, term)
        assert term.uuid_range is None, (typed, term)
