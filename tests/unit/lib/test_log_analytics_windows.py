from datetime import timedelta

from pipelines.lib.loganalytics import SMALLEST_WINDOW, TARGET_ANSWER_BYTES, WINDOW, next_window_size

DAY = timedelta(days=1)


def test_the_next_window_is_sized_to_carry_the_target_answer() -> None:
    # A day answered 4x the target: a quarter of a day is expected to answer about the target.
    assert next_window_size(DAY, 4 * TARGET_ANSWER_BYTES) == DAY / 4
    assert next_window_size(DAY, TARGET_ANSWER_BYTES // 2) == 2 * DAY


def test_windows_stay_between_a_minute_and_a_week() -> None:
    assert next_window_size(DAY, 0) == WINDOW  # an empty answer: back to the widest window
    assert next_window_size(WINDOW, 10 * TARGET_ANSWER_BYTES) == WINDOW / 10
    assert next_window_size(SMALLEST_WINDOW, 100 * TARGET_ANSWER_BYTES) == SMALLEST_WINDOW
