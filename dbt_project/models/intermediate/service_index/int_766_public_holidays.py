"""Vietnamese public holidays (Tết included) from the `holidays` package, one row per day off.

The package also lists days off swapped for a Saturday ("Day off (substituted from MM/DD/YYYY)"); the Saturday
named there becomes a working day, so it is returned as `substitute_working_date` for the calendar model.
"""

import re
from datetime import date, datetime

import holidays
import pandas as pd

FIRST_YEAR = 2015
LAST_YEAR = 2040
_SUBSTITUTED = re.compile(r"substituted from (\d{2}/\d{2}/\d{4})")


def model(dbt, session):
    dbt.config(materialized="table")
    calendar = holidays.country_holidays("VN", years=range(FIRST_YEAR, LAST_YEAR + 1))
    rows = []
    for day, name in sorted(calendar.items()):
        match = _SUBSTITUTED.search(name)
        swapped = datetime.strptime(match.group(1), "%m/%d/%Y").date() if match else None
        rows.append(
            {
                "calendar_date": day,
                "holiday_name": name,
                "substitute_working_date": swapped,
                "source": f"holidays {holidays.__version__} country_holidays('VN')",
            }
        )
    frame = pd.DataFrame(rows)
    frame["calendar_date"] = pd.to_datetime(frame["calendar_date"]).dt.date
    frame["substitute_working_date"] = frame["substitute_working_date"].astype("object")
    assert frame["calendar_date"].min() >= date(FIRST_YEAR, 1, 1)
    return frame
