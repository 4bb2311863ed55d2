"""The web page through its HTTP interface (Starlette's test client); the browser tests are
in test_browser.py."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from psychometrics.exceptions import DataValidationError
from psychometrics.tracking.auth import add_user, verify_user
from psychometrics.tracking.ingestion import ingest
from psychometrics.tracking.schema import audit_log, patients, signals, users
from psychometrics.tracking.web import create_app

EVIL = "<script>alert('x')</script><b>bold</b> & 'quote'"


@pytest.fixture(scope="module")
def app_store(loaded_store):
    add_user(loaded_store, "alice", "alice-password-1", "therapist", "T000", replace=True)
    add_user(loaded_store, "sue", "sue-password-123", "supervisor", replace=True)
    return loaded_store


@pytest.fixture
def client(app_store):
    from starlette.testclient import TestClient

    with TestClient(create_app(app_store), follow_redirects=True) as c:
        yield c


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, user="alice", pw="alice-password-1"):
    r = client.post("/login", data={"username": user, "password": pw,
                                    "csrf_token": token(client.get("/login").text)})
    assert r.status_code == 200 and r.url.path == "/"
    return r


def own_and_other(engine, therapist="T000"):
    with engine.connect() as conn:
        own = conn.execute(select(patients).where(patients.c.therapist == therapist)
                           .order_by(patients.c.id)).first()
        other = conn.execute(select(patients).where(patients.c.therapist != therapist)
                             .order_by(patients.c.id)).first()
    return own, other


def test_passwords_are_argon2id_hashes(app_store):
    with app_store.connect() as conn:
        h = conn.execute(select(users.c.password_hash).where(users.c.username == "alice")
                         ).scalar_one()
    assert h.startswith("$argon2id$") and "alice-password-1" not in h
    assert verify_user(app_store, "alice", "alice-password-1")["therapist"] == "T000"
    assert verify_user(app_store, "alice", "wrong-password") is None
    assert verify_user(app_store, "nobody", "alice-password-1") is None
    with pytest.raises(DataValidationError, match="at least 10"):
        add_user(app_store, "carl", "short", "therapist", "T002")
    with pytest.raises(DataValidationError, match="exists already"):
        add_user(app_store, "alice", "another-password", "therapist", "T000")


def test_login_required_and_wrong_password(client):
    r = client.get("/")
    assert r.url.path == "/login"
    r = client.post("/login", data={"username": "alice", "password": "nope-nope-nope",
                                    "csrf_token": token(client.get("/login").text)})
    assert r.status_code == 401 and "wrong password" in r.text


@pytest.mark.parametrize("route", ["/login", "/logout", "/signals/1/acknowledge"])
def test_every_form_needs_its_csrf_token(client, route):
    login(client)
    data = {"username": "alice", "password": "alice-password-1"}
    r = client.post(route, data=data)
    assert r.status_code == 403 and "security token" in r.text
    r = client.post(route, data={**data, "csrf_token": "forged"})
    assert r.status_code == 403


def test_therapist_sees_only_own_patients(client, app_store):
    login(client)
    r = client.get("/")
    with app_store.connect() as conn:
        own = set(conn.execute(select(patients.c.code).where(patients.c.therapist == "T000"))
                  .scalars())
        others = set(conn.execute(select(patients.c.code).where(patients.c.therapist != "T000"))
                     .scalars())
    shown = set(re.findall(r'class="patient-link">([^<]+)<', r.text))
    assert shown == own
    assert not any(code in r.text for code in others)


def test_other_therapists_patient_is_403_without_data_and_audited(client, app_store):
    login(client)
    own, other = own_and_other(app_store)
    r = client.get(f"/patients/{other.id}")
    assert r.status_code == 403
    assert other.code not in r.text and other.therapist not in r.text
    assert "<svg" not in r.text and "signal" not in r.text.lower()
    r = client.get(f"/patients/{own.id}")
    assert r.status_code == 200 and own.code in r.text and "<svg" in r.text
    with app_store.connect() as conn:
        rows = conn.execute(select(audit_log.c.patient_id, audit_log.c.allowed)
                            .where(audit_log.c.username == "alice")).all()
    assert (other.id, False) in rows and (own.id, True) in rows
    assert client.get("/patients/99999999").status_code == 404


def test_supervisor_sees_the_clinic(client, app_store):
    login(client, "sue", "sue-password-123")
    own, other = own_and_other(app_store)
    assert client.get(f"/patients/{other.id}").status_code == 200
    r = client.get("/")
    assert "160 patients" in r.text


def test_acknowledge_a_signal(client, app_store):
    login(client)
    own, _ = own_and_other(app_store)
    with app_store.connect() as conn:
        sid = conn.execute(select(signals.c.id).join(patients)
                           .where(patients.c.therapist == "T000")).scalars().first()
        foreign = conn.execute(select(signals.c.id).join(patients)
                               .where(patients.c.therapist != "T000")).scalars().first()
    page = client.get("/")
    r = client.post(f"/signals/{foreign}/acknowledge", data={"csrf_token": token(page.text)})
    assert r.status_code == 403
    r = client.post(f"/signals/{sid}/acknowledge", data={"csrf_token": token(page.text)})
    assert r.status_code == 200 and "seen by alice" in r.text
    with app_store.connect() as conn:
        by = conn.execute(select(signals.c.acknowledged_by).where(signals.c.id == foreign)
                          ).scalar_one()
    assert by is None


def test_free_text_is_shown_escaped(client, app_store, clinic_csv):
    import pandas as pd

    df = pd.read_csv(clinic_csv, dtype={"date": str})
    row = df[(df["therapist"] == "T000")].iloc[[0]].copy()
    row["session"] = 60
    row["date"] = None
    row["note"] = EVIL
    assert ingest(app_store, row, signals=False).n_new == 1
    login(client)
    with app_store.connect() as conn:
        pid = conn.execute(select(patients.c.id).where(patients.c.code == row["id"].iloc[0])
                           ).scalar_one()
    r = client.get(f"/patients/{pid}")
    assert EVIL not in r.text and "<script>alert" not in r.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; " in r.text


def test_headers_cookie_and_no_patient_data_in_logs(client, app_store, caplog):
    caplog.set_level(logging.INFO, logger="psychometrics.tracking.web")
    r = client.get("/login")
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    login(client)
    own, other = own_and_other(app_store)
    client.get(f"/patients/{own.id}")
    client.get(f"/patients/{other.id}")
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "GET /patients/{patient_id:int} 200" in text and "GET /patients/{patient_id:int} 403" in text
    for secret in (own.code, other.code, own.therapist, "alice", "alice-password-1"):
        assert secret not in text


def test_tampered_session_cookie_is_not_a_login(client, app_store):
    from starlette.testclient import TestClient

    login(client)
    value = client.cookies.get("psychometrics_session")
    with TestClient(create_app(app_store), follow_redirects=False) as fresh:
        good = fresh.get("/", headers={"cookie": f"psychometrics_session={value}"})
        assert good.status_code == 200 and "My caseload" in good.text
        bad = value[:-6] + ("AAAAAA" if not value.endswith("AAAAAA") else "BBBBBB")
        r = fresh.get("/", headers={"cookie": f"psychometrics_session={bad}"})
        assert r.status_code == 303 and r.headers["location"] == "/login"
