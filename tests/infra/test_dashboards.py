"""Every Grafana panel's SQL, expanded as Grafana expands it, run as analytics_reader against a
migrated database holding known rows, must answer the columns and values its oracle computes.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
import yaml

from engine import aggregates, config
from tests.infra import compose, grafana, product_oracle
from tests.infra.panel_oracle import ORACLES as OVERVIEW_ORACLES
from tests.infra.panel_oracle import Data, Query

END = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # a Monday, noon
MINUTE = dt.timedelta(minutes=1)
US = dt.timedelta(microseconds=1)
DURATIONS = (None, 0.5, 1.25, 2.0, 3.75, 10.0, 0.125)  # exact in binary: sums and means compare exactly
# (end of the range, dashboard range, $__interval) each panel is asked for.
QUERIES = [
    (END, dt.timedelta(hours=6), dt.timedelta(minutes=1)),
    (END, dt.timedelta(days=2), dt.timedelta(hours=1)),
    (END, dt.timedelta(days=10), dt.timedelta(days=1)),
    (END, dt.timedelta(hours=1), dt.timedelta(seconds=10)),
    (END - dt.timedelta(seconds=7), dt.timedelta(hours=3), dt.timedelta(minutes=5)),
]
ORACLES = {**OVERVIEW_ORACLES, **product_oracle.ORACLES}
PANELS = [(name, panel) for name, dashboard in grafana.load_dashboards().items() for panel in grafana.panels(dashboard)]


def event(moment, user="user_1", element="video_player", duration=1.25, project_id=1, session="s1", action="play"):
    return {
        "event_id": uuid.uuid4(),
        "project_id": project_id,
        "user_id": user,
        "action": action,
        "element": element,
        "duration": duration,
        "timestamp": moment,
        "session_id": session,
    }


def edge_events() -> list[dict]:
    """Events on the edges the panels must get right, and ties the ordering must break."""
    window = END - 5 * MINUTE
    return [
        event(window, user="edge_a", duration=0.5),  # the stats' (start, end] leaves it out; $__timeFilter keeps it
        event(window + US, user="edge_b", duration=None),
        event(END, user="edge_c", duration=2.0),  # both keep the end
        event(END + US, user="edge_d"),  # after the range: nobody counts it
        event(END - MINUTE, user="edge_e", duration=3.75),  # exactly on a bucket boundary
        event(END - MINUTE, user="other", project_id=2),  # another project
        event(END - dt.timedelta(hours=1), user="edge_f", element=None, session=None),
        *(event(END - dt.timedelta(minutes=30 + i), user=f"tie_{i}", element="Zebra") for i in range(3)),
        *(event(END - dt.timedelta(minutes=40 + i), user=f"tie_{i}", element="apple") for i in range(3)),
    ]


def random_events(count: int = 1500) -> list[dict]:
    rng = random.Random(20261128)  # fixed: the same rows on every run
    elements = ("video_player", "like_button", "nav_home", "search_box", "share_button", "feed_card", None)
    rows = []
    for _ in range(count):
        offset = dt.timedelta(microseconds=rng.randrange(11 * 86_400 * 10**6))
        rows.append(
            event(
                END + dt.timedelta(days=1) - offset,
                user=f"user_{rng.randrange(40)}",
                element=rng.choice(elements),
                duration=rng.choice(DURATIONS),
                project_id=1 if rng.random() < 0.9 else 2,
                session=rng.choice(("s1", "s2", "s3", None)),
                action=rng.choice(("view", "click", "play")),
            )
        )
    return rows


def task_runs() -> list[dict]:
    rng = random.Random(7)
    runs = []
    for i in range(-3, 2 * 360):  # a drain every 10 s for two hours up to END, and three after it
        finished = END - dt.timedelta(seconds=10 * i)
        backlog = rng.choice((0, 0, 3, 40, 1200))
        runs.append(
            {
                "task": "stream-drain",
                "status": "ok",
                "finished_at": finished,
                "seconds": 0.25,
                "inserted": rng.randrange(500),
                "duplicates": rng.choice((0, 0, 1, 7)),
                "dead_lettered": rng.choice((0, 0, 0, 1)),
                "reclaimed": rng.choice((0, 0, 2)),
                "backlog": backlog,
                "oldest_undrained_age_seconds": rng.choice((0.5, 1.25, 30.0)) if backlog else None,
            }
        )
    for i in range(-1, 240):
        status = "skipped" if i % 7 == 3 else "refreshed"
        runs.append(
            {
                "task": "view-refresh",
                "status": status,
                "finished_at": END - dt.timedelta(seconds=30 * i),
                "seconds": rng.choice((0.5, 1.75, 4.0)),
                "inserted": 0,
                "duplicates": 0,
                "dead_lettered": 0,
                "reclaimed": 0,
                "backlog": 0,
                "oldest_undrained_age_seconds": None,
            }
        )
    return runs


DEAD_LETTERS = [
    {"stream_id": "1-0", "replayed_at": None},
    {"stream_id": "2-0", "replayed_at": END},
    {"stream_id": "3-0", "replayed_at": None},
]


def _copy_text(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    def text(value) -> str:
        if value is None:
            return "\\N"
        return value.isoformat() if isinstance(value, dt.datetime) else str(value)

    return "".join("\t".join(text(row[c]) for c in columns) + "\n" for row in rows).encode()


EVENT_COLUMNS = ("event_id", "project_id", "user_id", "action", "element", "duration", "timestamp", "session_id")
RUN_COLUMNS = ("task", "status", "finished_at", "seconds", "inserted", "duplicates", "dead_lettered", "reclaimed", "backlog")


def write(conn, data: Data) -> None:
    """Store the rows, and count them into the rollups as the backfill of an upgraded database does."""
    events = [{**e, "received_at": e["timestamp"]} for e in data.events]
    columns = (*EVENT_COLUMNS, "received_at")
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn.run(f"COPY events ({quoted}) FROM STDIN", stream=[_copy_text(events, columns)])
    runs = [{**r, "started_at": r["finished_at"], "age": r["oldest_undrained_age_seconds"]} for r in data.task_runs]
    columns = (*RUN_COLUMNS, "started_at", "age")
    names = [*RUN_COLUMNS, "started_at", "oldest_undrained_age_seconds"]
    conn.run(f"COPY task_runs ({', '.join(names)}) FROM STDIN", stream=[_copy_text(runs, columns)])
    for d in data.dead_letters:
        conn.run(
            "INSERT INTO dead_letters (stream_id, payload, error, deliveries, replayed_at) VALUES (:stream_id, 'x', 'e', 5, :replayed_at)",
            **d,
        )
    conn.run("INSERT INTO rollup_backfill (project_id, counted_from) SELECT DISTINCT project_id, 'infinity'::timestamptz FROM events")
    aggregates.run_backfill(conn)


def run_panel(
    conn, panel: dict, start: dt.datetime, end: dt.datetime, interval: dt.timedelta, tz: str = "UTC"
) -> tuple[list[str], list[list]]:
    """The panel's query as Grafana would send it (the product dashboard's $tz as given), run as the datasource's role."""
    sql = grafana.expand(panel["targets"][0]["rawSql"], start, end, interval, {"project": "1", "tz": tz})
    assert "$" not in sql, sql
    conn.run("SET ROLE analytics_reader")
    try:
        rows = conn.run(sql)
        columns = [column["name"] for column in conn.columns]
    finally:
        conn.run("RESET ROLE")
    return columns, rows


def same(actual, expected) -> bool:
    """Exact equality; a Fraction is rounded as PostgreSQL's numeric rounded its answer."""
    if isinstance(expected, Fraction):
        if not isinstance(actual, Decimal):
            return False
        with localcontext() as context:
            context.prec = 80
            value = Decimal(expected.numerator) / Decimal(expected.denominator)
            return value.quantize(Decimal(1).scaleb(actual.as_tuple().exponent), rounding=ROUND_HALF_UP) == actual
    if isinstance(expected, float) and isinstance(actual, float | int):
        return float(actual) == expected
    return actual == expected and isinstance(actual, bool) == isinstance(expected, bool)


def assert_rows(actual: list[list], expected: list[list], where: str) -> None:
    assert len(actual) == len(expected), f"{where}: {len(actual)} rows, expected {len(expected)}\n{actual[:5]}\n{expected[:5]}"
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert len(got) == len(want) and all(same(a, e) for a, e in zip(got, want, strict=True)), f"{where}, row {i}: {got} != {want}"


@pytest.fixture
def data(conn) -> Data:
    seeded = Data(edge_events() + random_events(), task_runs(), DEAD_LETTERS)
    write(conn, seeded)
    return seeded


def test_every_panel_has_an_oracle_and_every_oracle_a_panel():
    titles = {(name, panel["title"]) for name, panel in PANELS}
    assert len(titles) == len(PANELS), "panel titles must be unique within a dashboard"
    assert titles == set(ORACLES)


@pytest.mark.parametrize(("name", "panel"), PANELS, ids=[f"{n.removesuffix('.json')}:{p['title']}" for n, p in PANELS])
def test_panel_answers_what_its_oracle_computes(conn, data, name, panel):
    oracle = ORACLES[name, panel["title"]]
    answered = 0
    zones = product_oracle.TIMEZONES if name == product_oracle.PRODUCT else ("UTC",)
    for (at, span, interval), tz in [(query, tz) for query in QUERIES for tz in zones]:
        start, end = grafana.panel_range(panel, at, span)
        columns, rows = run_panel(conn, panel, start, end, interval, tz)
        expected_columns, expected_rows = oracle(data, Query(start, end, interval, tz=tz))
        where = f"{panel['title']} over {span} to {at} by {interval} in {tz}"
        assert columns == expected_columns, where
        assert_rows(rows, expected_rows, where)
        answered += any(value not in (None, 0) for row in rows for value in row[1:] or row)
    # The seeded rows must give every panel something to show, or the comparison proves little.
    assert answered, f"{panel['title']}: no query of the test returned a non-zero value"


def test_the_headline_stats_use_the_metrics_window_and_the_series_grafanas_range(conn):
    """Hand-computed: the stats count the whole minutes of (end - 5 min, end] like GET /metrics (end's
    own minute the last); the series count every minute the range touches."""
    window = END - 5 * MINUTE
    write(conn, Data([event(window), event(window + US), event(END), event(END + US)], [], []))
    overview = grafana.load_dashboards()["analytics-overview.json"]
    by_title = {p["title"]: p for p in grafana.panels(overview)}
    _, rows = run_panel(conn, by_title["Events per minute (last 5 min)"], window, END, MINUTE)
    assert rows == [[Decimal("0.4")]]
    _, rows = run_panel(conn, by_title["Events per minute"], window, END, MINUTE)
    assert rows == [[window + i * MINUTE, Decimal(n)] for i, n in enumerate((2, 0, 0, 0, 0, 2))]


def test_the_variable_query_lists_the_projects(conn):
    overview = grafana.load_dashboards()["analytics-overview.json"]
    (variable,) = overview["templating"]["list"]
    conn.run("SET ROLE analytics_reader")
    try:
        assert conn.run(variable["query"]) == [[1, "default"]]
        assert [c["name"] for c in conn.columns] == ["__value", "__text"]
    finally:
        conn.run("RESET ROLE")
    assert variable["current"]["value"] == "1"


def test_analytics_reader_may_read_but_not_write(conn):
    conn.run("SET ROLE analytics_reader")
    try:
        with pytest.raises(Exception, match="permission denied"):
            conn.run("INSERT INTO task_runs (task, status, started_at, finished_at, seconds) VALUES ('view-refresh', 'x', now(), now(), 0)")
    finally:
        conn.run("RESET ROLE")


def test_panels_are_plain_sql_grafana_cannot_misread():
    for name, panel in PANELS:
        (target,) = panel["targets"]
        sql = target["rawSql"]
        # Newer Grafana strips SQL comments before expanding macros; without any, every version sends the same text.
        assert "--" not in sql and "/*" not in sql, (name, panel["title"])
        assert target["rawQuery"] is True and target["editorMode"] == "code"
        assert target["format"] == ("time_series" if panel["type"] == "timeseries" else "table"), panel["title"]
        if panel["type"] == "timeseries":
            # date_bin keeps timestamps: Grafana's $__timeGroup computes a numeric epoch per row, three times slower.
            assert "date_bin(" in sql and sql.endswith("ORDER BY 1"), panel["title"]
        scans_events = re.search(r"\b(FROM|JOIN)\s+(events|events_people)\b", sql)
        if name == "analytics-overview.json" or (name == product_oracle.PRODUCT and panel["title"] not in SEQUENCE_PANELS):
            # Numbers come from the rollups the drain keeps, never from a scan of raw events.
            assert not scans_events, panel["title"]
            assert re.search(r"\b(FROM|JOIN) (rollup_\w+|user_engagement|activity_heatmap|element_rankings)\b", sql), panel["title"]
        elif name == product_oracle.PRODUCT:
            # Sessions and retention follow each person's sequence of events, which no rollup keeps; the panel says so.
            assert scans_events and "no rollup keeps" in panel["description"], panel["title"]
        # Ties break in byte order of the name, as GET /metrics does, whatever the database's collation
        # (this machine's is C, where only this check can tell).
        order_by = sql.split("ORDER BY", 1)[1] if "ORDER BY" in sql else ""
        for column in ("element", "user_id"):
            if re.search(rf"\b{column}\b", order_by):
                assert f'{column} COLLATE "C"' in order_by, (panel["title"], order_by)


# The product dashboard's panels that must read raw events: no rollup holds individual sequences.
SEQUENCE_PANELS = {"Sessions (time range)", "Weekly retention ($tz, time range)"}


def references(node) -> list:
    """Every value of a "datasource" key, anywhere in a dashboard."""
    if isinstance(node, dict):
        found = [node["datasource"]] if "datasource" in node else []
        return found + [ref for key, value in node.items() if key != "datasource" for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def test_every_datasource_reference_resolves_to_the_provisioned_datasource():
    (source,) = grafana.provisioned_datasources()
    for name, dashboard in grafana.load_dashboards().items():
        refs = references(dashboard)
        assert len(refs) >= 2 * len(grafana.panels(dashboard)), f"{name}: every panel and every query names its datasource"
        assert all(ref == {"type": source["type"], "uid": source["uid"]} for ref in refs), name


def test_the_datasource_logs_in_as_the_read_only_role_with_a_password_from_the_environment():
    (source,) = grafana.provisioned_datasources()
    config = compose.load_compose(compose.filled_env())
    postgres = config["services"]["postgres"]["environment"]
    assert source["type"] == "grafana-postgresql-datasource" and source["uid"] == "analytics-postgres"
    assert source["user"] == "analytics_reader" != postgres["POSTGRES_USER"]
    assert source["secureJsonData"] == {"password": "$__env{ANALYTICS_READER_PASSWORD}"}
    assert "ANALYTICS_READER_PASSWORD" in config["services"]["grafana"]["environment"]
    assert source["jsonData"]["database"] == postgres["POSTGRES_DB"]
    assert source["editable"] is False and "password" not in source and "database" not in source


def grafana_reads(env: dict[str, str]) -> str:
    """The server Grafana's datasource connects to under this infra/.env: its url, $__env{...} filled from Grafana's environment."""
    (source,) = grafana.provisioned_datasources()
    grafana_env = compose.load_compose(env)["services"]["grafana"]["environment"]
    return re.sub(r"\$__env\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: grafana_env[m.group(1)], source["url"])


def metrics_read_url(env: dict[str, str]) -> str | None:
    """Where the metrics function reads under this infra/.env, as engine.config parses its environment."""
    return config.load_settings(compose.load_compose(env)["services"]["metrics"]["environment"]).database_read_url


def test_without_a_read_replica_grafana_and_the_metrics_read_the_primary():
    env = compose.filled_env()
    assert "ANALYTICS_READ_REPLICA" not in env
    assert grafana_reads(env) == "postgres:5432"
    assert metrics_read_url(env) is None
    assert (
        metrics_read_url({**env, "ANALYTICS_READ_REPLICA": ""}) is None
        and grafana_reads({**env, "ANALYTICS_READ_REPLICA": ""}) == "postgres:5432"
    )


def test_with_a_read_replica_grafana_reads_the_replica_the_metrics_read_and_writers_stay_on_the_primary():
    env = {**compose.filled_env(), "ANALYTICS_READ_REPLICA": "pg-replica.internal:6432"}
    assert grafana_reads(env) == "pg-replica.internal:6432"
    assert metrics_read_url(env) == f"postgresql://analytics:{env['ANALYTICS_DB_PASSWORD']}@pg-replica.internal:6432/analytics"
    services = compose.load_compose(env)["services"]
    for name in ("ingest", "stream-drain", "view-refresh"):
        assert "ANALYTICS_DATABASE_READ_URL" not in services[name]["environment"], name
        assert services[name]["environment"]["ANALYTICS_DATABASE_URL"].endswith("@postgres:5432/analytics"), name
    assert services["metrics"]["environment"]["ANALYTICS_DATABASE_URL"].endswith("@postgres:5432/analytics")


def test_the_dashboard_provider_loads_the_directory_compose_mounts():
    provider = yaml.safe_load((grafana.GRAFANA / "provisioning" / "dashboards" / "analytics.yaml").read_text())["providers"][0]
    mounts = compose.load_compose(compose.filled_env())["services"]["grafana"]["volumes"]
    assert f"../grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert provider["allowUiUpdates"] is False and provider["disableDeletion"] is True


def test_dashboards_have_unique_uids_and_panel_ids():
    dashboards = grafana.load_dashboards().values()
    assert len({d["uid"] for d in dashboards}) == len(dashboards)
    for dashboard in dashboards:
        ids = [panel["id"] for panel in grafana.panels(dashboard)]
        assert len(set(ids)) == len(ids), dashboard["uid"]
        assert dashboard["editable"] is False


@pytest.mark.parametrize("title", ["Active users (last 5 min)", "Active users"])
def test_active_users_count_people_as_get_metrics_does(conn, title):
    """An anonymous id linked to its user (Segment alias or identify) is one person, not two."""
    panel = next(p for _, p in PANELS if p["title"] == title)
    minute = END - MINUTE
    write(conn, Data([event(minute, user="anon-9"), event(minute, user="user-9"), event(minute, user="user-10")], [], []))
    before = run_panel(conn, panel, END - dt.timedelta(hours=1), END, dt.timedelta(hours=1))[1]
    conn.run("INSERT INTO identity_links (project_id, alias_id, person_id) VALUES (1, 'anon-9', 'user-9')")
    after = run_panel(conn, panel, END - dt.timedelta(hours=1), END, dt.timedelta(hours=1))[1]
    assert sum(row[-1] for row in before) == 3
    assert sum(row[-1] for row in after) == 2
