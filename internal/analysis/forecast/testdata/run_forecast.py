# Runs the GL-008 guide's forecast_capacity.py (copied verbatim beside this
# file) with datetime.now() pinned, for forecast_test.go:
#   python3 run_forecast.py SITES GROWTH MONTHS YYYY-MM-DDTHH:MM:SS
# Needs pandas; the test skips this check when it is missing.
import datetime as _dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forecast_capacity  # noqa: E402

NOW = _dt.datetime.fromisoformat(sys.argv[4])


class PinnedDatetime(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


forecast_capacity.datetime = PinnedDatetime
forecast_capacity.forecast_capacity_requirements(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))
