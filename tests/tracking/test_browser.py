"""The web page in real headless Chromium (Debian's chromium + chromedriver, via selenium)
against uvicorn serving a real SQLite store."""
from __future__ import annotations

import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from psychometrics.tracking.schema import patients, signals


def log_in(browser, base, user, pw):
    browser.delete_all_cookies()
    browser.get(base + "/login")
    browser.find_element(By.ID, "username").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(pw)
    browser.find_element(By.ID, "login-button").click()
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "caseload")))


@pytest.fixture(scope="module")
def facts(loaded_store, live_server):
    with loaded_store.connect() as conn:
        own = set(conn.execute(select(patients.c.code).where(patients.c.therapist == "T000"))
                  .scalars())
        other = conn.execute(select(patients.c.id, patients.c.code)
                             .where(patients.c.therapist != "T000")
                             .order_by(patients.c.id)).first()
        # an own patient with an alliance-rupture or not-on-track signal
        flagged = conn.execute(select(patients.c.id, patients.c.code).join(signals)
                               .where(patients.c.therapist == "T000",
                                      signals.c.kind.in_(["alliance_rupture",
                                                          "not_on_track"]))
                               .order_by(patients.c.id)).first()
    assert flagged is not None, "the simulated clinic should give T000 a warning signal"
    return {"own": own, "other": other, "flagged": flagged}


def test_login_caseload_patient_chart_and_signals(browser, live_server, facts):
    log_in(browser, live_server, "alice", "alice-password-1")
    links = browser.find_elements(By.CSS_SELECTOR, "a.patient-link")
    assert {a.text for a in links} == facts["own"]
    assert facts["other"].code not in browser.page_source

    code = facts["flagged"].code
    next(a for a in links if a.text == code).click()
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "patient-code")))
    assert browser.find_element(By.ID, "patient-code").text == f"Patient {code}"
    # the outcome chart: the patient's points, the expected curve and the tolerance band
    oq = browser.find_element(By.CSS_SELECTOR, "#chart-oq-45\\.2 svg")
    assert oq.find_elements(By.CSS_SELECTOR, "polygon.band")
    assert oq.find_elements(By.CSS_SELECTOR, "polyline.expected-line")
    assert len(oq.find_elements(By.CSS_SELECTOR, "circle.score-point")) >= 2
    assert oq.size["width"] > 300 and oq.size["height"] > 150       # laid out, visible
    # the alliance chart against the patient's own running mean
    wai = browser.find_element(By.CSS_SELECTOR, "#chart-wai-sr svg")
    assert wai.find_elements(By.CSS_SELECTOR, "polyline.mean-line")
    rows = browser.find_elements(By.CSS_SELECTOR, "#signals tr.signal-row")
    text = " ".join(r.text for r in rows)
    assert rows and re.search(r"not on track|alliance rupture", text)
    assert "model #" in text


def test_another_therapists_patient_is_refused(browser, live_server, facts):
    log_in(browser, live_server, "alice", "alice-password-1")
    browser.get_log("performance")                                  # drop older entries
    url = f"{live_server}/patients/{facts['other'].id}"
    browser.get(url)
    msg = browser.find_element(By.ID, "error-message").text
    assert msg == "You do not have access to this patient."
    assert facts["other"].code not in browser.page_source
    assert not browser.find_elements(By.TAG_NAME, "svg")
    # the HTTP status the browser received (Chrome's network log)
    statuses = [m["params"]["response"]["status"] for m in
                (json.loads(e["message"])["message"] for e in browser.get_log("performance"))
                if m["method"] == "Network.responseReceived"
                and m["params"]["response"]["url"] == url]
    assert statuses == [403]


def test_form_without_csrf_token_is_refused(browser, live_server, facts):
    log_in(browser, live_server, "alice", "alice-password-1")
    browser.get(f"{live_server}/patients/{facts['flagged'].id}")
    form = browser.find_element(By.CSS_SELECTOR, "form.ack-form")
    browser.execute_script(
        "arguments[0].querySelector('input[name=csrf_token]').remove();", form)
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "error-message")))
    assert "security token" in browser.find_element(By.ID, "error-message").text
    # with the token the same form works
    browser.get(f"{live_server}/patients/{facts['flagged'].id}")
    n_open = len(browser.find_elements(By.CSS_SELECTOR, "form.ack-form"))
    old_page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form.ack-form button").click()
    # the patient page is there before and after the post: wait for the old page to go first
    WebDriverWait(browser, 15).until(EC.staleness_of(old_page))
    WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, "patient-code")))
    assert len(browser.find_elements(By.CSS_SELECTOR, "form.ack-form")) == n_open - 1
    assert "seen by alice" in browser.page_source


def test_supervisor_sees_every_therapist(browser, live_server, facts):
    log_in(browser, live_server, "sue", "sue-password-123")
    assert "160 patients" in browser.page_source
    browser.get(f"{live_server}/patients/{facts['other'].id}")
    assert browser.find_element(By.ID, "patient-code").text == f"Patient {facts['other'].code}"
