"""Issue 9 (6): the wording a ward official would write, asserted on meaning."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import yaml

from reporting.answers import choice_options, format_value
from reporting.config import Settings
from reporting.texts import Texts

ROOT = Path(__file__).resolve().parent.parent
VI = yaml.safe_load((ROOT / "templates" / "vi.yaml").read_text(encoding="utf-8"))


def test_one_phrase_for_the_edit_deadline() -> None:
    text = "\n".join(str(v) for v in VI.values())
    for old in ("trước ngày {{ locks_on", "khóa sổ", "khóa từ ngày", "đã khóa ngày"):
        assert old not in text
    out = Texts()("submitted_ok", "vi", addr="đồng chí Lan", period="03/2022", group="Tổ 1",
                  at=datetime(2022, 4, 3, 9, 0), late=False, due=date(2022, 4, 5),
                  locks_on=date(2022, 4, 10))
    assert "lúc 09:00 ngày 03/04/2022" in out and "sửa đến hết ngày 09/04/2022" in out


def test_the_ward_is_lower_case_mid_sentence_only(settings: Settings) -> None:
    t = Texts()
    ward = settings.ward.name
    assert "Thi Đua Bot của phường Quyết Thắng!" in t("ask_code", "vi", ward=ward)
    assert "📣 <b>Phường Quyết Thắng</b>" in t("broadcast_message", "vi", ward=ward, text="x")
    assert "Quyết Thắng Ward" in t("ask_code", "en", ward="Quyết Thắng Ward")


def test_deed_photos_reviews_and_broadcasts() -> None:
    t = Texts()
    deed = SimpleNamespace(subject_name="Bà Xuân", subject_kind="person", description="x",
                           happened_on=date(2022, 3, 2), status="draft")
    confirm = t("deed_ask_confirm", "vi", deed=deed, group="Tổ 1", category="Khác", photos=0,
                error=None)
    assert "Không có ảnh" in confirm and "0 ảnh" not in confirm
    assert "Có 1 gương người tốt, việc tốt mới cần xem xét." in t(
        "review_intro", "vi", count=1, more=False)
    assert t("broadcast_queued", "vi", count=3).startswith("📤 Đang gửi 3 tin nhắn…")
    progress = t("broadcast_progress", "vi", done=True, sent=2, total=3, failed=1, pending=0,
                 failures=[], more_failures=0)
    assert "đã gửi tới 2/3 người" in progress and "đã nhận" not in progress


def test_the_photo_limit_comes_from_config() -> None:
    assert "tối đa 2,5 MB" in Texts()("deed_err_photo_size", "vi", max_mb="2,5")
    assert "20 MB" not in VI["deed_err_photo_size"]


def test_standards_and_titles_are_met_or_not(settings: Settings) -> None:
    ds = settings.report
    for code in ("safe_area", "drug_free", "cultured_group"):
        ind = ds.indicator(code)
        assert choice_options(ind) == [("yes", "Đạt"), ("no", "Chưa đạt")]
        assert not ind.short_label("vi").startswith("Không")  # no "Không ...: Không"
    assert format_value(ds.indicator("drug_free"), "no") == "Chưa đạt"
    sanitation = ds.indicator("sanitation")
    assert [label for _, label in choice_options(sanitation)] == [
        "Tốt", "Khá", "Trung bình", "Yếu"]
    assert "đường, ngõ, khu dân cư" in sanitation.label.vi


def test_answers_met_is_only_for_yes_no() -> None:
    import pytest
    from pydantic import ValidationError

    from reporting.config import Indicator

    base = {"code": "x", "label": {"vi": "X", "en": "X"}}
    assert Indicator.model_validate({**base, "type": "yes_no", "answers": "met"}).answers == "met"
    with pytest.raises(ValidationError, match="'answers' only applies"):
        Indicator.model_validate({**base, "type": "integer", "answers": "met"})
