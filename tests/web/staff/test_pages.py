"""The dashboard's pages for a logged-in staff member: queue, ticket actions, transcripts, reveal,
unanswered questions, trends and CSV exports; escaping, masking and headers."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.web.staff.conftest import USER, Site, mounted
from visafaq.db.engine import transaction
from visafaq.triage import tickets
from visafaq.triage.schema import RevealRow
from visafaq.web.staff import StaffConfig
from visafaq.web.staff.security import CONTENT_SECURITY_POLICY

TODAY = datetime.now(UTC).date()
PERIOD = f"?from={TODAY - timedelta(days=30)}&to={TODAY}"


def test_the_queue_shows_open_requests_masked(staff_client: tuple[TestClient, str], site: Site) -> None:
    client, _ = staff_client
    page = client.get("/staff/").text
    assert f'href="/staff/tickets/{site.ticket}"' in page
    assert "my passport [passport or card number hidden], call [phone hidden]" in page
    assert "titp" in page and "socketio" in page and "TK1234567" not in page and "090-1234-5678" not in page


def test_claim_note_and_close_from_the_ticket_page(staff_client: tuple[TestClient, str], site: Site) -> None:
    client, csrf = staff_client
    page = client.get(f"/staff/tickets/{site.ticket}").text
    assert "can I change my employer as a trainee?" in page  # the transcript
    assert "TK1234567" not in page and "Reveal (logged)" in page
    base = f"/staff/tickets/{site.ticket}"
    assert client.post(f"{base}/claim", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    client.post(f"{base}/note", data={"csrf": csrf, "text": "Called back; <b>sent</b> the form to a@b.jp"})
    page = client.get(base).text
    assert f"claimed by {USER}" in page
    assert "Called back; &lt;b&gt;sent&lt;/b&gt; the form to [e-mail hidden]" in page
    response = client.post(f"{base}/note", data={"csrf": csrf, "text": "   "})
    assert "a note needs some text" in response.text  # said, not lost in a stack trace
    client.post(f"{base}/close", data={"csrf": csrf})
    assert tickets.get_ticket(site.store, site.ticket).status == "closed"
    assert f'href="{base}"' not in client.get("/staff/").text  # gone from the queue
    response = client.post(f"{base}/claim", data={"csrf": csrf})
    assert "is closed" in response.text


def test_a_reveal_shows_one_message_and_is_logged(staff_client: tuple[TestClient, str], site: Site) -> None:
    client, csrf = staff_client
    page = client.get("/staff/conversations/web-1").text
    event_id = re.search(r'name="event_id" value="(\d+)"', page)
    assert event_id and "TK1234567" not in page
    revealed = client.post(
        "/staff/reveal", data={"csrf": csrf, "conversation_id": "web-1", "event_id": event_id.group(1)}
    )
    assert revealed.status_code == 200 and "my passport TK1234567, call 090-1234-5678" in revealed.text
    with transaction(site.store) as session:
        row = session.execute(select(RevealRow)).scalar_one()
    assert (row.staff_user, row.conversation_id, row.event_id) == (USER, "web-1", int(event_id.group(1)))
    assert row.kinds == "passport or card number, phone"
    assert "TK1234567" not in client.get("/staff/conversations/web-1").text  # masked again afterwards
    wrong = client.post("/staff/reveal", data={"csrf": csrf, "conversation_id": "web-2", "event_id": event_id.group(1)})
    assert wrong.status_code == 404


def test_unanswered_questions_link_to_their_conversations(staff_client: tuple[TestClient, str]) -> None:
    client, _ = staff_client
    page = client.get(f"/staff/unanswered{PERIOD}").text
    assert 'href="/staff/conversations/web-2"' in page and 'href="/staff/conversations/web-1"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "[passport or card number hidden]" in page and "TK1234567" not in page


def test_trends_show_charts_and_tables(staff_client: tuple[TestClient, str]) -> None:
    client, _ = staff_client
    page = client.get(f"/staff/trends{PERIOD}").text
    assert page.count("<svg") == 4 and "<rect" in page
    assert "<td>change_employer</td><td>1</td>" in page  # by topic
    assert "<td>socketio</td><td>3</td>" in page  # by channel
    assert "<strong>50%</strong> hand-off rate" in page  # one of two conversations


def test_exports_are_csv_masked_and_spreadsheet_safe(staff_client: tuple[TestClient, str], site: Site) -> None:
    client, _ = staff_client
    response = client.get(f"/staff/export/unanswered.csv{PERIOD}")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="visafaq-unanswered-{TODAY - timedelta(days=30)}'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["conversations"] for row in rows} == {"web-1", "web-2"}
    assert "TK1234567" not in response.text
    queue = list(csv.DictReader(io.StringIO(client.get("/staff/export/queue.csv").text)))
    assert [row["id"] for row in queue] == [str(site.ticket)] and "[phone hidden]" in queue[0]["question"]
    by_channel = list(csv.reader(io.StringIO(client.get(f"/staff/export/by_channel.csv{PERIOD}").text)))
    assert by_channel == [["channel", "questions"], ["socketio", "3"], ["rest", "1"]]


def test_bad_input_gets_a_clear_4xx(staff_client: tuple[TestClient, str]) -> None:
    client, _ = staff_client
    for query in ("?from=yesterday", "?from=2026-11-02&to=2026-11-01", "?from=2000-01-01&to=2026-01-01"):
        response = client.get(f"/staff/trends{query}")
        assert response.status_code == 400 and "That period cannot be shown" in response.text
    assert client.get("/staff/export/passwords.csv").status_code == 404
    assert client.get("/staff/tickets/9999").status_code == 404
    assert client.get("/staff/conversations/nobody-here").status_code == 404


def test_every_page_has_the_security_headers_and_no_script(staff_client: tuple[TestClient, str], site: Site) -> None:
    client, _ = staff_client
    for path in ("/staff/", f"/staff/tickets/{site.ticket}", "/staff/unanswered", "/staff/trends", "/staff/login"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "script-src" not in CONTENT_SECURITY_POLICY
        assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
        assert "<script" not in response.text and " style=" not in response.text
    cookie = client.get("/staff/").headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_a_dead_database_gets_a_polite_503(tmp_path: Path) -> None:
    config = StaffConfig(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/nothing",
        tracker_url=f"sqlite:///{tmp_path / 'tracker.sqlite3'}",
        secret_key="k",
    )
    with TestClient(mounted(config)) as client:
        for path in ("/staff/login", "/staff/"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 503 and "temporarily unavailable" in response.text
