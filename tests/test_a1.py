import pytest

from app.domain.a1 import A1Range, RangeError, column_index, column_letter, parse_range


@pytest.mark.parametrize(
    ("index", "letters"), [(1, "A"), (10, "J"), (26, "Z"), (27, "AA"), (702, "ZZ"), (703, "AAA")]
)
def test_column_letters_round_trip(index: int, letters: str) -> None:
    assert column_letter(index) == letters
    assert column_index(letters) == index
    assert column_index(letters.lower()) == index


@pytest.mark.parametrize(
    ("text", "tab", "expected"),
    [
        ("A1:J1000", None, A1Range(1, 1, 10, 1000)),
        ("A:J", None, A1Range(1, 1, 10, None)),
        ("A2:J", None, A1Range(1, 2, 10, None)),
        ("c3:l20", None, A1Range(3, 3, 12, 20)),
        ("B5", None, A1Range(2, 5, 2, 5)),
        ("Ideas!A1:J10", "Ideas", A1Range(1, 1, 10, 10)),
        ("'My ideas'!A1:J", "My ideas", A1Range(1, 1, 10, None)),
        ("'Bob''s'!A:B", "Bob's", A1Range(1, 1, 2, None)),
        ("2:10", None, A1Range(1, 2, None, 10)),
    ],
)
def test_parse_range(text: str, tab: str | None, expected: A1Range) -> None:
    assert parse_range(text) == (tab, expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("J1:A5", "column before"),
        ("A10:J2", "row before"),
        ("A1:B2:C3", "more than one"),
        ("hello world", "A1 notation"),
        ("A0:B2", "row 0"),
        ("!A1", "empty tab"),
    ],
)
def test_bad_ranges_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(RangeError, match=says):
        parse_range(text)
