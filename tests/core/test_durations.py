import pytest

from signalcheck.durations import parse_duration
from signalcheck.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("2m", 120), ("500ms", 0.5), ("1h", 3600), ("15", 15)]
)
def test_durations(text, seconds):
    assert parse_duration(text, "--interval") == seconds


@pytest.mark.parametrize("text", ["", "0s", "-1s", "1d", "soon"])
def test_bad_durations_name_the_option(text):
    with pytest.raises(ConfigError, match=r"^--duration: .* is not a positive duration"):
        parse_duration(text, "--duration")
