"""The chat widget in a real browser (Debian's Chromium, headless) against the real servers.

Replies are compared with what the Rasa server says over REST to a fresh conversation, not with
hard-coded texts, so the tests check the widget and the session, not the wording of the answers.
"""

from __future__ import annotations

import json
import uuid

import httpx
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.web.conftest import SCREENSHOTS, Stack

REPLY_TIMEOUT_MS = 60_000

# WCAG 2 contrast of every visible text in the widget against the background it is drawn on.
CONTRAST_REPORT = """
(host) => {
  const parse = (colour) => {
    const parts = colour.match(/[\\d.]+/g).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (node) => {
    for (let n = node; n; n = n.parentElement || n.getRootNode().host) {
      const colour = parse(getComputedStyle(n).backgroundColor);
      if (colour.a > 0.99) return colour;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const report = [];
  for (const node of host.shadowRoot.querySelectorAll("*")) {
    if (!node.checkVisibility() || node.classList.contains("visually-hidden")) continue;
    if (![...node.childNodes].some((c) => c.nodeType === Node.TEXT_NODE && c.textContent.trim())) continue;
    const a = luminance(parse(getComputedStyle(node).color));
    const b = luminance(background(node));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    report.push({ text: node.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100 });
  }
  return report;
}
"""


def low_contrast(page: Page) -> list[dict[str, object]]:
    """Visible texts of the widget below WCAG AA's 4.5:1 (all of ours are normal-size text)."""
    report: list[dict[str, object]] = page.locator("#visafaq-widget").evaluate(CONTRAST_REPORT)
    assert report, "no text found to check"
    return [item for item in report if float(str(item["ratio"])) < 4.5]


def rest_reply(stack: Stack, *messages: str) -> str:
    """The Rasa server's last reply text, over REST, to these messages in a new conversation."""
    sender = f"reference-{uuid.uuid4().hex}"
    replies: list[dict[str, object]] = []
    for message in messages:
        response = httpx.post(
            f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
        )
        response.raise_for_status()
        replies = response.json()
    return str([reply for reply in replies if reply.get("text")][-1]["text"])


def open_widget(page: Page, stack: Stack) -> None:
    page.goto(stack.page_url)
    page.get_by_role("button", name="Ask about Japanese visas").click()
    expect(page.get_by_label("Your question")).to_be_focused()


def wait_for_reply(page: Page) -> None:
    expect(page.locator(".typing")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)


def ask(page: Page, question: str) -> None:
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    wait_for_reply(page)


def bot_messages(page: Page) -> Locator:
    return page.locator(".msg.bot .text")


def last_bot_text(page: Page) -> str:
    return bot_messages(page).last.inner_text()


def transcript(page: Page) -> list[str]:
    return page.locator(".msg").all_inner_texts()


def stored_sender(page: Page) -> str:
    return str(page.evaluate("() => Object.values(localStorage).map((v) => JSON.parse(v).sender)[0]"))


def focused(page: Page) -> str:
    """What has the keyboard focus inside the widget: a button's text, or the element's tag name."""
    return str(
        page.evaluate(
            """() => {
              const host = document.getElementById("visafaq-widget");
              const active = host && host.shadowRoot.activeElement;
              if (!active) return "";
              return active.tagName === "BUTTON" ? "button:" + active.textContent : active.tagName.toLowerCase();
            }"""
        )
    )


def test_an_answer_shows_its_source_and_quick_replies_and_a_follow_up_keeps_the_programme(
    page: Page, stack: Stack, console_errors: list[str]
) -> None:
    open_widget(page, stack)
    question = "how many trainees can a company take for the trainee visa?"
    ask(page, question)

    expect(page.locator(".msg.user").last).to_have_text(f"You: {question}")
    answer = last_bot_text(page)
    assert answer == rest_reply(stack, question)
    assert "checked 24 November 2026" in answer
    # The source addresses are links (and only they are), opening safely in a new tab.
    links = page.locator(".msg.bot .source a")
    expect(links.first).to_be_visible()
    for link in links.all():
        href = link.get_attribute("href") or ""
        assert href.startswith(("https://", "http://")) and href.rstrip("/") in answer
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert link.get_attribute("target") == "_blank"
    assert page.locator(".msg.user a, .msg.bot .text > a").count() == 0

    quick = page.get_by_role("group", name="Suggested replies").get_by_role("button")
    expect(quick.first).to_be_visible()
    title = quick.first.inner_text()
    replies_before = bot_messages(page).count()
    quick.first.click()
    wait_for_reply(page)
    expect(page.locator(".msg.user").last).to_have_text(f"You: {title}")
    assert bot_messages(page).count() > replies_before

    # No programme named: the answer must be the one for the programme remembered from the first question.
    ask(page, "what documents do I need?")
    assert last_bot_text(page) == rest_reply(stack, "what documents do I need for the trainee visa?")

    assert low_contrast(page) == []  # with source links and suggested replies on show
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "widget-desktop.png")
    assert console_errors == []  # nothing blocked by the content security policy, no script errors


def test_the_conversation_survives_a_reload(page: Page, stack: Stack) -> None:
    open_widget(page, stack)
    ask(page, "how long does the CoE take for the trainee visa?")
    before = transcript(page)
    sender = stored_sender(page)

    page.reload()
    expect(page.locator(".msg").first).to_be_visible()
    assert transcript(page) == before
    expect(page.get_by_label("Your question")).to_be_visible()  # still open
    assert stored_sender(page) == sender

    # The same Rasa conversation goes on: the follow-up still knows the programme.
    ask(page, "what documents do I need?")
    assert last_bot_text(page) == rest_reply(stack, "what documents do I need for the trainee visa?")


def test_new_chat_starts_a_fresh_conversation(page: Page, stack: Stack) -> None:
    open_widget(page, stack)
    ask(page, "how long does the CoE take for the trainee visa?")
    sender = stored_sender(page)
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".msg")).to_have_count(0)
    assert stored_sender(page) != sender
    expect(page.get_by_label("Your question")).to_be_focused()


def test_a_corrupt_stored_conversation_starts_afresh(page: Page, stack: Stack, console_errors: list[str]) -> None:
    page.goto(stack.page_url)
    key = f"visafaq-widget:{stack.rasa_url}"
    broken = json.dumps({"sender": "x", "messages": [{"from": "evil", "text": "<b>x</b>"}, {"from": "bot", "text": 1}]})
    for stored in [broken, "{not json"]:
        page.evaluate("([key, value]) => localStorage.setItem(key, value)", [key, stored])
        page.reload()
        expect(page.get_by_role("button", name="Ask about Japanese visas")).to_be_visible()
        assert page.locator(".msg").count() == 0
    page.reload()
    page.get_by_role("button", name="Ask about Japanese visas").click()
    expect(page.locator(".msg")).to_have_count(0)
    ask(page, "hello")
    expect(page.locator(".msg.bot").first).to_be_visible()
    assert console_errors == []


def test_markup_in_messages_is_shown_as_typed_and_never_run(page: Page, stack: Stack) -> None:
    open_widget(page, stack)
    payloads = [
        "<script>window.__xss = 'script'</script>",
        "<img src=x onerror=\"window.__xss = 'img'\">",
        '"><svg onload="window.__xss=1"> javascript:alert(1) http://evil.example/',
    ]
    for payload in payloads:
        ask(page, payload)
        expect(page.locator(".msg.user .text").last).to_have_text(payload)
    assert page.evaluate("() => window.__xss") is None
    widget = page.locator("#visafaq-widget")
    assert widget.locator("img, svg, script:not([src]), iframe").count() == 0
    assert page.locator(".msg.user a").count() == 0  # a user's address never becomes a link

    # Stored as text too: after a reload the payloads are still shown as typed, and still not run.
    page.reload()
    for payload in payloads:
        expect(page.locator(".msg.user .text", has_text=payload[:20]).first).to_have_text(payload)
    assert page.evaluate("() => window.__xss") is None


def test_a_message_the_server_refuses_is_kept_and_the_reason_shown(page: Page, stack: Stack) -> None:
    open_widget(page, stack)
    ask(page, "hello\x00there")  # the REST channel refuses NUL characters with a 400 that says so
    expect(page.locator(".msg.note").last).to_contain_text("NUL character")
    expect(page.get_by_role("alert")).to_be_hidden()  # refused is not unreachable
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_the_widget_works_by_keyboard_alone(page: Page, stack: Stack) -> None:
    page.goto(stack.page_url)
    for _ in range(10):  # Tab through the page to the widget's button
        page.keyboard.press("Tab")
        if focused(page).startswith("button:"):
            break
    assert "Ask about Japanese visas" in focused(page)
    page.keyboard.press("Enter")
    assert focused(page) == "textarea"

    page.keyboard.type("what documents do I need for the trainee visa?")
    page.keyboard.press("Enter")
    wait_for_reply(page)
    assert focused(page) == "textarea"
    expect(page.locator(".msg.user")).to_have_count(1)

    # Suggested replies are reached backwards from the input, the hand-off button forwards.
    page.keyboard.press("Shift+Tab")
    suggestion = focused(page)
    assert suggestion.startswith("button:") and suggestion != "button:Send"
    page.keyboard.press("Enter")
    wait_for_reply(page)
    expect(page.locator(".msg.user").last).to_have_text(f"You: {suggestion.removeprefix('button:')}")

    page.get_by_label("Your question").focus()
    page.keyboard.press("Tab")
    assert focused(page) == "button:Send"
    page.keyboard.press("Tab")
    assert focused(page) == "button:Talk to staff"

    page.keyboard.press("Escape")  # closes the chat and gives focus back to its button
    expect(page.get_by_label("Your question")).to_be_hidden()
    assert "Ask about Japanese visas" in focused(page)


def test_new_messages_are_announced_to_screen_readers(page: Page, stack: Stack) -> None:
    open_widget(page, stack)
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    ask(page, "hello")
    expect(log.locator(".msg.bot").first).to_be_visible()  # replies are added inside the live region


def test_talk_to_staff_hands_the_conversation_over(page: Page, stack: Stack) -> None:
    open_widget(page, stack)
    ask(page, "how do I change my employer as a technical intern?")
    page.get_by_role("button", name="Talk to staff").click()
    wait_for_reply(page)
    expect(page.locator(".msg.user").last).to_have_text("You: Talk to staff")
    reference = rest_reply(stack, "how do I change my employer as a technical intern?", "/request_human")
    # The reply carries a fresh request number: compare its words, not the number.
    assert last_bot_text(page).split("(")[0] == reference.split("(")[0]


def test_the_page_fits_a_phone_and_meets_contrast(browser: Browser, stack: Stack) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        open_widget(page, stack)
        ask(page, "what documents do I need for the trainee visa?")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"the page scrolls sideways on a phone ({width} px)"
        for part in [".panel", ".launcher", ".send", ".msg.bot"]:
            box = page.locator(part).first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, f"{part} overflows: {box}"
        page.screenshot(path=SCREENSHOTS / "widget-phone.png")

        assert low_contrast(page) == []
    finally:
        phone.close()


def test_another_site_embeds_the_widget_with_one_tag(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.embedding_site}/")
    page.get_by_role("button", name="Ask about Japanese visas").click()
    ask(page, "what documents do I need for the trainee visa?")
    assert last_bot_text(page) == rest_reply(stack, "what documents do I need for the trainee visa?")
    # The host page's CSS does not reach into the widget.
    assert page.locator(".send").evaluate("(node) => getComputedStyle(node).color") == "rgb(255, 255, 255)"
    font = page.locator(".msg.bot").last.evaluate("(node) => getComputedStyle(node).fontFamily")
    assert font.startswith("system-ui"), font


def test_a_site_that_is_not_allowed_cannot_use_the_rasa_server(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.other_site}/")
    page.get_by_role("button", name="Ask about Japanese visas").click()
    ask(page, "what documents do I need for the trainee visa?")
    expect(page.get_by_role("alert")).to_be_visible()  # the browser refuses the answer (CORS)
    assert page.locator(".msg.bot").count() == 0


def test_the_rasa_server_lets_only_the_configured_origins_call_it(stack: Stack) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=10,
        )

    allowed = preflight(stack.page_url.rstrip("/"))
    assert allowed.headers.get("access-control-allow-origin") == stack.page_url.rstrip("/")
    assert "access-control-allow-origin" not in preflight("http://evil.example").headers


# Last: it stops and restarts the Rasa server.
def test_an_unreachable_server_is_shown_and_the_widget_recovers(page: Page, stack: Stack) -> None:
    open_widget(page, stack)
    ask(page, "how long does the CoE take for the trainee visa?")
    stack.assistant.stop_process("rasa")
    try:
        question = "what documents do I need?"
        ask(page, question)
        alert = page.get_by_role("alert")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("Can't reach the assistant")
        expect(page.locator(".msg.user").last).to_contain_text("Not sent yet")
        expect(page.get_by_role("button", name="Send")).to_be_disabled()
        assert low_contrast(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "widget-unreachable.png")

        page.reload()  # the unsent message survives a reload too
        expect(page.get_by_role("alert")).to_be_visible()
        expect(page.locator(".msg.user").last).to_contain_text("Not sent yet")
    finally:
        stack.assistant.start_rasa(timeout=240)

    page.get_by_role("button", name="Retry now").click()
    expect(page.get_by_role("alert")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
    wait_for_reply(page)
    expect(page.locator(".msg.user").last).not_to_contain_text("Not sent yet")
    assert last_bot_text(page) == rest_reply(stack, "what documents do I need for the trainee visa?")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_a_503_keeps_the_message_shows_the_server_s_reason_and_sends_it_later(page: Page, stack: Stack) -> None:
    """What the REST channel answers while the conversation stores are down (channels/outages.py)."""
    open_widget(page, stack)
    said = f"Stand-in outage {uuid.uuid4().hex[:8]}: try again shortly."

    def unavailable(route: Route) -> None:
        route.fulfill(
            status=503,
            headers={"Retry-After": "1", "Access-Control-Allow-Origin": "*"},
            content_type="application/json",
            body=json.dumps({"status": 503, "message": said}),
        )

    page.route("**/webhooks/rest/webhook", unavailable)
    question = "what documents do I need for the trainee visa?"
    ask(page, question)
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(said)
    expect(alert).to_contain_text("Your message is kept")
    expect(page.locator(".msg.user").last).to_contain_text("Not sent yet")

    page.unroute("**/webhooks/rest/webhook", unavailable)
    page.get_by_role("button", name="Retry now").click()
    expect(alert).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
    wait_for_reply(page)
    expect(page.locator(".msg.user").last).not_to_contain_text("Not sent yet")
    assert last_bot_text(page) == rest_reply(stack, question)


def test_a_rate_limited_message_is_kept_in_the_box_with_the_wait_shown(page: Page, stack: Stack) -> None:
    """The real server's per-sender limit (20 a minute by default): this conversation's allowance is spent
    over REST, then the widget's next message gets the 429."""
    open_widget(page, stack)
    ask(page, "hello")
    sender = stored_sender(page)
    for _ in range(19):  # malformed, so the model is not bothered; they count all the same
        response = httpx.post(
            f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": ""}, timeout=30
        )
        assert response.status_code in {400, 429}
    question = "what documents do I need for the trainee visa?"
    ask(page, question)
    expect(page.locator(".msg.note").last).to_contain_text("wait")
    expect(page.locator(".msg.note").last).to_contain_text("back in the box")
    expect(page.get_by_label("Your question")).to_have_value(question)  # nothing to type again
    expect(page.locator(".msg.user .text", has_text=question)).to_have_count(0)  # not shown as sent
    expect(page.get_by_role("button", name="Send")).to_be_disabled()  # until the wait is over
    expect(page.get_by_role("alert")).to_be_hidden()  # too fast is not unreachable
    page.reload()  # the stored conversation does not hold the unsent message either
    expect(page.locator(".msg.user .text", has_text=question)).to_have_count(0)


def test_a_message_whose_reply_was_lost_is_sent_again_and_answered_once(page: Page, stack: Stack) -> None:
    """The first try reaches the server, which stores the turn, but the reply never arrives (as when a
    replica dies after storing it): the widget sends the same message again with the same message_id,
    and the server answers it from what it stored instead of handling it twice."""
    open_widget(page, stack)
    question = "how long does the CoE take for the trainee visa?"
    bodies: list[dict[str, object]] = []

    def lose_the_reply(route: Route) -> None:
        bodies.append(json.loads(route.request.post_data or "{}"))
        route.fetch()  # the server handles and stores it
        route.abort("connectionreset")  # the reply is lost

    page.route("**/webhooks/rest/webhook", lose_the_reply)
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    expect(page.get_by_role("alert")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    page.unroute("**/webhooks/rest/webhook", lose_the_reply)

    with page.expect_request("**/webhooks/rest/webhook") as again:
        page.get_by_role("button", name="Retry now").click()
    expect(page.get_by_role("alert")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
    wait_for_reply(page)
    assert json.loads(again.value.post_data or "{}")["message_id"] == bodies[0]["message_id"]
    assert last_bot_text(page) == rest_reply(stack, question)

    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{stored_sender(page)}/tracker",
        params={"token": stack.assistant.settings.token},
        timeout=30,
    ).json()
    said = [event.get("text") for event in tracker["events"] if event.get("event") == "user"]
    assert said == [question]  # stored once, though sent twice
