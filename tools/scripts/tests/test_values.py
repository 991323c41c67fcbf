import pytest

from gxkeras.galaxy.errors import ModelRefused, ToolInputError
from gxkeras.galaxy.values import (
    is_count, is_number, parse_float, parse_int, parse_int_or_shape, parse_kwargs, parse_shape,
)


@pytest.mark.parametrize("text, shape", [
    ("(500,)", (500,)), ("500", (500,)), ("(28, 28, 1)", (28, 28, 1)), ("[4,5]", (4, 5)), (" ( 7 , ) ", (7,)),
])
def test_parse_shape_accepts_tuple_forms(text, shape):
    assert parse_shape(text, "input_shape") == shape


@pytest.mark.parametrize("text", ["(5a0,)", "", "()", "(0,)", "(-1,)", "__import__('os')", "(1,,2)", "1.5"])
def test_parse_shape_rejects_malformed(text):
    with pytest.raises(ToolInputError, match="input_shape"):
        parse_shape(text, "input_shape")


def test_parse_shape_none_only_where_allowed():
    assert parse_shape("(None, 8)", "shape", allow_none=True) == (None, 8)
    with pytest.raises(ToolInputError, match="None is not allowed"):
        parse_shape("(None, 8)", "input_shape")


def test_parse_int_or_shape():
    assert parse_int_or_shape("3", "kernel_size") == 3
    assert parse_int_or_shape("3,3", "kernel_size") == (3, 3)
    assert parse_int_or_shape("(2,)", "pool_size") == (2,)


def test_parse_kwargs_old_syntax_as_literals_only():
    assert parse_kwargs("", "kw") == {}
    assert parse_kwargs("use_bias=False, axis=(1, 2), name='d', x=None, rate=.5,", "kw") == {
        "use_bias": False, "axis": [1, 2], "name": "d", "x": None, "rate": 0.5}
    for text in ['{"use_bias": false}', "1, a=2", "**extra", "a=1) or f(b=2", "a b"]:
        with pytest.raises(ToolInputError, match=r"^kw: .* is malformed: expected key=value pairs"):
            parse_kwargs(text, "kw")
    for text in ["a=b", "a={'class_name': 'Lambda'}", "a={1, 2}", "a=1j", "a=b''", "a=[1, x]", "a=print(1)"]:
        with pytest.raises(ToolInputError, match=r"^kw: the value of 'a' must be a number, 'string', True, False"):
            parse_kwargs(text, "kw")
    with pytest.raises(ToolInputError, match=r"^kw: 'a' is given twice"):
        parse_kwargs("a=1, a=2", "kw")


@pytest.mark.parametrize("text", ["\u00b2", "\u0663", "1_0", " 1", "+1", "1.0", "", "0x10", "9" * 20, True, None, 1.0])
def test_parse_int_takes_ascii_digits_only(text):
    """'\u00b2'.isdigit() is true but int() fails on it; '\u0663' (Arabic-Indic 3) int() reads as 3: both refused."""
    with pytest.raises(ToolInputError, match=r"^Index: .* is not a whole number from 0 to 2,147,483,647$"):
        parse_int(text, "Index", 0, 2 ** 31 - 1)


def test_parse_int_refuses_what_would_wrap_in_int32():
    assert parse_int("2147483647", "Index", 0, 2 ** 31 - 1) == 2 ** 31 - 1
    assert parse_int("-7", "Offset", -10, 10) == -7 and parse_int(7, "Offset", -10, 10) == 7
    with pytest.raises(ModelRefused, match="^Index: 2147483648 is not"):
        parse_int(2 ** 31, "Index", 0, 2 ** 31 - 1, ModelRefused)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e999", "1_0", " 1", "+1", "\u0663", "\u00b2",
                                  "0x10", "1e", "", "1" * 65, 10 ** 400, float("nan"), float("inf"), True, None])
def test_parse_float_takes_finite_decimal_numbers_only(text):
    """float() takes 'nan', 'inf', '1_0', ' 1' and non-ASCII digits; none of them is a number here."""
    with pytest.raises(ModelRefused, match=r"^Weight: .* is not a number from -10 to 10$"):
        parse_float(text, "Weight", -10, 10, ModelRefused)


def test_parse_float_ranges():
    assert parse_float("6.666667E-1", "w", 0, 1) == pytest.approx(2 / 3)
    assert parse_float("-1", "w", -1, 1) == -1.0 and parse_float(".5", "w", 0, 1) == 0.5
    assert parse_float(3, "w", 0, 5) == 3.0 and parse_float("1e5", "w", 0, 1e6) == 1e5
    with pytest.raises(ToolInputError, match="^w: '0' is not a number greater than 0 and at most 1$"):
        parse_float("0", "w", 0, 1, above_minimum=True)
    with pytest.raises(ToolInputError, match="^w: '2.5' is not a number from 1 to 2$"):
        parse_float("2.5", "w", 1, 2)


def test_is_count_and_is_number_the_one_checker_of_stored_values():
    import numpy as np

    assert is_count(0) and is_count(np.int64(7)) and is_count(5, 1, 5)
    assert not any([is_count(True), is_count(-1), is_count(2.0), is_count("3"), is_count(0, minimum=1),
                    is_count(6, 1, 5), is_count(None)])
    assert is_number(0) and is_number(-2.5) and is_number(np.float32(1.5)) and is_number(np.int8(3))
    assert not any([is_number(False), is_number(float("nan")), is_number(float("inf")), is_number("1"),
                    is_number(None), is_number(1j)])


def test_one_number_writer_for_the_tables():
    import numpy as np

    from gxkeras.galaxy.outputs import number_cells, number_text

    assert [number_text(value) for value in (0.0025, 1e-05, np.float32(0.5), 3, np.int64(4), float("nan"), "a")] == \
        ["0.0025", "1e-05", "0.5", "3", "4", "nan", "a"]
    assert number_text(0.75, 4) == "0.7500" and number_text(np.float64(1), 6) == "1.000000"
    assert number_cells(np.array([[0.5, 1.0]]), 6).tolist() == [["0.500000", "1.000000"]]
    assert number_cells(np.array([1, 2])).tolist() == ["1", "2"]
