"""The game day report says what each phase sent to which regions, from the ledger: probe
passes of which checks, the load's profile and users (the user's locustfile or the shipped
ones), the experiments and each region's background traffic (or none, and why)."""

from __future__ import annotations

from signalcheck.gameday.plan import PROFILES
from signalcheck.gameday.report import sent_by_phase
from signalcheck.ledger import Entry
from signalcheck.report import GamedayReport
from signalcheck.report.html import render_html


def entry(kind: str, **fields) -> Entry:
    return Entry(ts=1.0, kind=kind, **fields)


LEDGER = [
    entry("phase", name="baseline", start=10.0, end=20.0),
    *[entry("probe", check="health", region=r, start=11.0, end=11.1) for r in ("a", "b") * 2],
    entry("probe", check="orders", region="b", start=12.0, end=12.1),
    entry("probe", check="health", region="a", start=25.0, end=25.1),  # outside every phase
    entry(
        "load",
        profile="ramp",
        shape="Steps",
        region="b",
        locustfile="/x/theirs.py",
        user_classes=["Shopper"],
        user_mix={},
        total_requests=12,
        requests={"/items/{id}": {"2xx": 10, "5xx": 1}},
    ),
    entry(
        "traffic",
        regions={
            "a": {
                "sends": "demo-token",
                "checks": [],
                "why": "",
                "requests": {"POST /auth/token": {"2xx": 30}},
            },
            "b": {
                "sends": "checks",
                "checks": ["health"],
                "why": "",
                "requests": {"health": {"2xx": 29, "connect_error": 1}},
            },
            "c": {
                "sends": "none",
                "checks": [],
                "why": "no http check in traffic.checks",
                "requests": {},
            },
        },
    ),
]


def test_each_phase_says_what_it_sent_to_which_region():
    rows = [(s.phase, s.region, s.what) for s in sent_by_phase(PROFILES["quick"], LEDGER)]
    assert rows == [
        ("baseline", "a", "probes: health 2x"),
        ("baseline", "b", "probes: health 2x, orders 1x"),
        ("load: ramp", "b", "load profile ramp, shape Steps: your locustfile theirs.py "
         "(Shopper); 12 requests, to the region: 11 (2xx 10, 5xx 1)"),
        ("chaos", "*", "experiments: region-outage"),
        ("chaos", "a", "background traffic: the demo's token requests: 30 (2xx 30)"),
        ("chaos", "b", "background traffic: the requests of checks health: 30 "
         "(2xx 29, connect_error 1)"),
        ("chaos", "c", "no background traffic (no http check in traffic.checks)"),
    ]  # fmt: skip


def test_the_shipped_users_are_named_as_such_and_the_html_shows_the_table():
    shipped = entry("load", profile="smoke", shape="smoke", region="a", locustfile=None,
                    user_classes=[], user_mix={"workflow": 3, "browse": 6, "rum": 0},
                    total_requests=0, requests={})  # fmt: skip
    [row] = sent_by_phase(PROFILES["quick"].model_copy(update={"phases": ("load",)}), [shipped])
    assert "signalcheck's shipped users (workflow 3, browse 6)" in row.what
    html = render_html(GamedayReport(title="t", started=0, ended=1, sent=[row]))
    assert 'id="sent"' in html and "shipped users (workflow 3, browse 6)" in html
