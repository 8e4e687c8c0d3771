"""The macro expansion the panel tests rely on, checked against Grafana's own expectations
(grafana/grafana, pkg/tsdb/grafana-postgresql-datasource/macros_test.go) and Go's formatting.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.infra import grafana

FROM = dt.datetime(2018, 4, 12, 18, 0, tzinfo=dt.UTC)
TO = FROM + dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        ("select $__time(time_column)", 'select time_column AS "time"'),
        ("select min($__time(time_column))", 'select min(time_column AS "time")'),
        ("WHERE $__timeFilter(time_column)", "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"),
        ("select $__timeFrom()", "select '2018-04-12T18:00:00Z'"),
        ("select $__timeTo()", "select '2018-04-12T18:05:00Z'"),
        # Pre-5.3 compatibility: a comma right after $__timeGroup(...) makes it the alias form.
        ("SELECT $__timeGroup(time_column,'5m'), value", 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value'),
        ("SELECT $__timeGroup(time_column,'5m') as time, value", "SELECT floor(extract(epoch from time_column)/300)*300 as time, value"),
        ("SELECT $__timeGroup(time_column,'5m')", "SELECT floor(extract(epoch from time_column)/300)*300"),
        ("SELECT $__timeGroupAlias(time_column,'5m')", 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time"'),
        ("$__timeGroup(time_column , '5m')", "floor(extract(epoch from time_column)/300)*300"),
        ("$__timeGroupAlias(time_column , '5m')", 'floor(extract(epoch from time_column)/300)*300 AS "time"'),
        ("select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"),
    ],
)
def test_macros_expand_as_grafanas_tests_expect(sql, expanded):
    assert grafana.expand_macros(sql, FROM, TO) == expanded


def test_fractions_of_a_second_are_written_as_go_writes_rfc3339nano():
    start = dt.datetime(1960, 2, 1, 7, 0, 0, 500_000, tzinfo=dt.UTC)
    end = dt.datetime(1980, 2, 3, 8, 0, 0, 500_000, tzinfo=dt.UTC)
    assert grafana.rfc3339nano(start) == "1960-02-01T07:00:00.5Z"
    expanded = grafana.expand_macros("WHERE $__timeFilter(t)", start, end)
    assert expanded == "WHERE t BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'"
    assert grafana.rfc3339nano(dt.datetime(2026, 3, 2, 12, 0, 0, 123_000, tzinfo=dt.UTC)) == "2026-03-02T12:00:00.123Z"


def test_interval_variables_are_replaced_before_the_macros():
    sql = grafana.expand("SELECT $__interval, $__interval_ms, $__timeGroupAlias(t, $__interval)", FROM, TO, dt.timedelta(minutes=10))
    assert sql == 'SELECT 10m, 600000, floor(extract(epoch from t)/600)*600 AS "time"'


def test_template_variables_are_replaced_and_macros_left_to_the_backend():
    assert grafana.replace_variables("WHERE p = $project AND q = ${project} AND $__timeFilter(t)", {"project": "1"}) == (
        "WHERE p = 1 AND q = 1 AND $__timeFilter(t)"
    )


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (dt.timedelta(milliseconds=20), "20ms"),
        (dt.timedelta(seconds=10), "10s"),
        (dt.timedelta(seconds=90), "1m"),
        (dt.timedelta(hours=2), "2h"),
        (dt.timedelta(days=12), "12d"),
        (dt.timedelta(days=400), "1y"),
    ],
)
def test_intervals_format_as_gtime_formats_them(interval, text):
    assert grafana.format_interval(interval) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(300.0, "300"), (0.02, "0.02"), (100000.0, "100000"), (1e6, "1e+06"), (1036800.0, "1.0368e+06"), (1e-05, "1e-05"), (0.0001, "0.0001")],
)
def test_floats_print_as_gos_percent_v(value, text):
    assert grafana.go_float(value) == text


def test_a_timegroup_without_an_interval_is_an_error():
    with pytest.raises(grafana.MacroError, match="needs time column and interval"):
        grafana.expand_macros("SELECT $__timeGroup(t)", FROM, TO)
    with pytest.raises(grafana.MacroError, match="unknown macro"):
        grafana.expand_macros("SELECT $__nope(t)", FROM, TO)
