"""The group sheet's cells made by `cell_maker` (an indicator's kind looked at once,
plain figures without a Decimal) are the cells `indicator_cell` makes, value by value."""

from __future__ import annotations

from reporting.config import IndicatorType, Settings
from reporting.export import cell_maker, indicator_cell
from reporting.export_cells import Num

STORED = [None, "0", "7", "007", "-3", "12.0", "12.50", "-0", "-0.5", "1.5", "98.6",
          "0.1", "3.14159265358979323846", "123456789012345678901234567890", "1e3",
          "1E-7", "+4", " 12", "12 ", "1_000", "NaN", "inf", "-Infinity", "", "abc",
          "yes", "no", "maybe", "tot", "kha", "Có", "١٢", "²", "1.", ".5"]


def test_every_kind_of_indicator_makes_the_same_cells(settings: Settings) -> None:
    indicators = [i for ds in settings.datasets.values() for i in ds.indicators]
    kinds = {i.type for i in indicators}
    assert kinds >= {IndicatorType.INTEGER, IndicatorType.DECIMAL, IndicatorType.PERCENT,
                     IndicatorType.YES_NO, IndicatorType.CHOICE, IndicatorType.TEXT}
    for ind in indicators:
        make = cell_maker(ind)
        for value in STORED * 2:  # twice: a label worked out once is given again
            fast, slow = make(value), indicator_cell(ind, value)
            assert fast == slow and type(fast) is type(slow), (ind.code, value, fast, slow)
            if isinstance(fast, Num):
                assert type(fast.value) is type(slow.value), (ind.code, value)  # type: ignore[union-attr]
