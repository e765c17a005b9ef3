from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kaoping.core.masking import mask_id_number, mask_name, mask_phone, mask_text


def test_examples():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert (
        mask_text("电话13812341234，身份证11010519491231002X") == "电话138****1234，身份证110105********002X"
    )


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_no_mobile_number_survives_masking(phone):
    masked = mask_text(f"请回电 {phone} 谢谢")
    assert phone not in masked
    assert phone[:3] + "****" + phone[-4:] in masked
