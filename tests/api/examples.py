"""The three example models built with the Python API, call for call what their YAML files say."""

from __future__ import annotations

from connector.api import Model

EVENING = [0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.2, 1.0, 0.9, 0.9,
           1.0, 1.0, 0.9, 0.9, 1.0, 1.3, 1.7, 2.0, 2.2, 2.0, 1.4, 0.7]


def banking() -> Model:
    m = Model(["offline", "online", "loan_screen"], initial="offline", name="banking",
              timezone="UTC")
    m.population(users=10000)
    m.attribute("balance", "long", initial="randint(0, 1000)")
    m.attribute("loan", "long", initial=0)
    for topic in ("clickstream", "trx", "balance", "loan"):
        m.topic(topic, topic)
    m.transition("income", "offline", "offline", chance=0.01,
                 update=["balance += randint(100, 1000)"], emit=["balance"])
    m.transition("spending", "offline", "offline", chance=0.1, vars={"amount": "randint(10, 100)"},
                 condition="balance >= amount", update=["balance -= amount"],
                 emit=["trx", "balance"])
    m.transition("login", "offline", "online", chance=0.1, emit=["clickstream"])
    m.transition("logout", "online", "offline", chance=70)
    m.transition("open_loan_screen", "online", "loan_screen", chance=30, emit=["clickstream"])
    m.transition("close_loan_screen", "loan_screen", "online", chance=40, emit=["clickstream"])
    m.transition("take_loan", "loan_screen", "online", chance=10,
                 update=["balance += 10000", "loan = 10000"],
                 emit=["clickstream", "loan", "balance"])
    return m


def _page(page: str) -> dict[str, object]:
    return {"topic": "page_views", "fields": {"page": f"'{page}'"}}


def _listen() -> dict[str, object]:
    return {"topic": "listen_events", "fields": {"song_id": "randint(1, 250000)",
                                                  "duration_ms": "round(lognormal(12.3, 0.3))"}}


def music() -> Model:
    m = Model(["registered", "logged_out", "home", "playing", "settings", "cancelled"],
              initial="logged_out", final=["cancelled"], name="music", timezone="America/New_York")
    m.population(users=20000, arrivals={"per_day": 400}, arrival_state="registered")
    m.attribute("level", "string", initial="choice(['free', 'paid'], [0.75, 0.25])")
    m.attribute("location", "string",
                initial="choice(['US', 'CA', 'GB', 'DE', 'PL', 'BR'], [40, 8, 12, 15, 10, 15])")
    m.attribute("songs_played", "long", initial=0)
    m.profile("evening", hours=EVENING, weekdays=[1.0, 1.0, 1.0, 1.0, 1.05, 0.8, 0.75])
    for topic in ("auth_events", "page_views", "listen_events", "status_changes"):
        m.topic(topic, topic)
    m.transition("register", "registered", "home", chance=100, session="open",
                 emit=[{"topic": "auth_events", "fields": {"success": "true"}},
                       _page("register")])
    m.transition("login", "logged_out", "home", every="20h", profile="evening", session="open",
                 vars={"ok": "bernoulli(0.97)"}, condition="ok",
                 emit=[{"topic": "auth_events", "fields": {"success": "ok"}}, _page("home")])
    m.transition("play", "home", "playing", chance=45, update=["songs_played += 1"],
                 emit=[_page("next_song"), _listen()])
    m.transition("next_song", "playing", "playing", chance=60, update=["songs_played += 1"],
                 emit=[_page("next_song"), _listen()])
    m.transition("thumbs_up", "playing", "playing", chance=4, emit=[_page("thumbs_up")])
    m.transition("stop", "playing", "home", chance=8, emit=[_page("home")])
    m.transition("open_settings", "home", "settings", chance=4, emit=[_page("settings")])
    m.transition("close_settings", "settings", "home", chance=50, emit=[_page("home")])
    for name, chance, old, new in (("upgrade", 6, "free", "paid"),
                                   ("downgrade", 2, "paid", "free")):
        m.transition(name, "settings", "home", chance=chance, condition=f"level == '{old}'",
                     update=[f"level = '{new}'"],
                     emit=[_page(name), {"topic": "status_changes",
                                         "fields": {"old_level": f"'{old}'"}}])
    m.transition("logout", "home", "logged_out", chance=12, session="close",
                 emit=[_page("logout"), {"topic": "auth_events", "fields": {"success": "true"}}])
    m.transition("close_app", "playing", "logged_out", chance=2, session="close")
    m.transition("cancel", "settings", "cancelled", chance=1, session="close",
                 emit=[_page("cancel"), {"topic": "status_changes",
                                         "fields": {"old_level": "level"}}])
    return m


def iot() -> Model:
    m = Model(["ok", "degraded", "failed", "maintenance"], initial={"ok": 0.97, "degraded": 0.03},
              name="iot", timezone="UTC")
    m.population(users=5000)
    m.attribute("temperature", "double", initial="normal(45, 2)")
    m.attribute("vibration", "double", initial="lognormal(0, 0.2)")
    m.attribute("firmware", "string",
                initial="choice(['1.4.2', '1.5.0', '2.0.1'], [0.2, 0.5, 0.3])")
    for topic in ("telemetry", "alerts", "maintenance"):
        m.topic(topic, topic)
    m.transition("report", ["ok", "degraded"], "self", every="1m", update=[
        "temperature = clip(temperature + normal(0, 0.3) + if(state == 'degraded', 0.05, "
        "-0.01 * (temperature - 45)), -20, 150)",
        "vibration = clip(vibration * lognormal(0, 0.05), 0, 50)"],
        emit=[{"topic": "telemetry", "fields": {"status": "state", "anomaly": "false"}}])
    m.transition("spike", ["ok", "degraded"], "self", every="3d",
                 vars={"factor": "uniform(1.3, 1.8)"},
                 emit=[{"topic": "telemetry", "fields": {
                     "temperature": "temperature * factor", "vibration": "vibration * factor * 2",
                     "status": "state", "anomaly": "true"}}])
    m.transition("degrade", "ok", "degraded", every="20d", update=["vibration = vibration * 1.5"],
                 emit=[{"topic": "alerts", "fields": {"severity": "'WARNING'",
                                                      "message": "'vibration above baseline'"}}])
    m.transition("fail", "degraded", "failed", every="2d",
                 emit=[{"topic": "alerts", "fields": {"severity": "'CRITICAL'",
                                                      "message": "'device stopped reporting'"}}])
    m.transition("dispatch", "failed", "maintenance", every="4h",
                 emit=[{"topic": "maintenance", "fields": {"action": "'dispatched'",
                                                           "firmware": "firmware"}}])
    m.transition("repair", "maintenance", "ok", every="90m", update=[
        "temperature = normal(45, 2)", "vibration = lognormal(0, 0.2)", "firmware = '2.0.1'"],
        emit=[{"topic": "maintenance", "fields": {"action": "'repaired'",
                                                  "firmware": "firmware"}}])
    return m


EXAMPLES = {"banking": banking, "music": music, "iot": iot}
