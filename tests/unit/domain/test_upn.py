import pytest

from gaptools.domain.upn import check_letter, is_valid_upn, looks_like_upn


@pytest.mark.parametrize("upn", ["B801200005001", "A950000178301", "H243278544154"])
def test_domain_vectors_are_valid(upn):
    assert is_valid_upn(upn)


def test_invalid_vector_names_the_right_letter():
    assert not is_valid_upn("R247962919251")
    assert check_letter("R247962919251") == "Q"
    assert is_valid_upn("Q247962919251")


def test_check_letter_sum_worked_by_hand():
    # B801200005001: 8*2+0*3+1*4+2*5+0*6+0*7+0*8+0*9+5*10+0*11+0*12+1*13 = 93; 93 % 23 = 1 -> B
    digits = "801200005001"
    total = sum(int(c) * pos for pos, c in enumerate(digits, start=2))
    assert total == 93
    assert check_letter("?" + digits) == "ABCDEFGHJKLMNPQRTUVWXYZ"[93 % 23] == "B"


def test_temporary_upn_letter_in_position_13():
    body = "80120000500"
    letter = "A"  # value 0 in the letter table
    total = sum(int(c) * pos for pos, c in enumerate(body, start=2)) + 0 * 13
    expected = "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23]
    assert check_letter("?" + body + letter) == expected


def test_shape():
    assert looks_like_upn("B801200005001")
    assert not looks_like_upn("P2")
    assert not looks_like_upn("I801200005001")  # I is never a check letter
