"""The ingest's fast paths give what the plain ones gave: batched histogram observations and
cached scrubbing."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram

from signalcheck.rum_ingest.metrics import observe_all
from signalcheck.rum_ingest.privacy import CACHED_TEXT_CHARS, scrub_text

BUCKETS = (0.1, 0.5, 1.0, 2.5)
AMOUNTS = [0.0, 0.1, 0.1000001, 0.3, 0.5, 0.7, 1.0, 2.5, 2.6, 1e9, 0.05, 1 / 3]


def samples(observe) -> dict[str, float]:
    """The histogram's bucket, count and sum samples after `observe`."""
    registry = CollectorRegistry()
    histogram = Histogram("h_seconds", "h", ["page"], buckets=BUCKETS, registry=registry)
    observe(histogram.labels("/"))
    return {
        f"{sample.name}{sample.labels.get('le', '')}": sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if not sample.name.endswith("_created")
    }


def test_batched_histogram_observations_equal_one_by_one():
    def one_by_one(child) -> None:
        for amount in AMOUNTS:
            child.observe(amount)

    batched, expected = samples(lambda child: observe_all(child, AMOUNTS)), samples(one_by_one)
    assert batched.pop("h_seconds_sum") == pytest.approx(expected.pop("h_seconds_sum"), rel=1e-12)
    assert batched == expected and expected["h_seconds_count"] == len(AMOUNTS)


def test_scrubbing_gives_the_same_text_cached_or_not():
    secret = "failed for joe@example.com at https://a.example/x?token=abc Bearer abcdefgh12345678"
    short = scrub_text(secret)
    assert short == scrub_text(secret)  # the cached answer
    assert "joe@example.com" not in short and "token=abc" not in short
    long = secret + " " * CACHED_TEXT_CHARS  # beyond the cache: scrubbed every time
    assert scrub_text(long) == short + " " * CACHED_TEXT_CHARS
