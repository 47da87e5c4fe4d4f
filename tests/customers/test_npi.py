"""NPI check digit: Luhn over "80840" + the first nine digits (docs/imports.md)."""

import pytest

from customers.importing.fields import CellError, npi_check_digit_valid, parse_npi


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_known_valid_npis_pass(npi):
    assert npi_check_digit_valid(npi)
    assert parse_npi(npi) == npi


@pytest.mark.parametrize("npi", ["1234567890", "1234567894", "1245319598"])
def test_wrong_check_digit_is_refused(npi):
    with pytest.raises(CellError, match="invalid NPI check digit"):
        parse_npi(npi)


@pytest.mark.parametrize("npi", ["123456789", "12345678931", "12345A7893", " 1234567893"])
def test_npi_must_be_ten_digits(npi):
    with pytest.raises(CellError, match="must be 10 digits"):
        parse_npi(npi)
