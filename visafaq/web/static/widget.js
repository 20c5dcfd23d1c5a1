/*
 * visafaq chat widget. Embed it with one tag:
 *
 *   <script src="https://<web app>/static/widget.js" data-rasa-url="https://<Rasa server>" defer></script>
 *
 * It talks to the Rasa server's REST channel (POST /webhooks/rest/webhook). The conversation (a random
 * sender id and the transcript) is kept in localStorage, so it survives a reload; the Rasa tracker keeps
 * the same sender's slots, so follow-ups still know the programme.
 *
 * Everything said by the user or the assistant is put in the page as text (textContent), never as HTML.
 * Links are made only from http(s) addresses in the assistant's own source lines ("Source: ...").
 * The widget lives in a shadow root, so the host page's styles neither break it nor are broken by it; its
 * stylesheet is loaded from beside this script, so a strict content security policy needs no 'unsafe-inline'.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || !script.dataset.rasaUrl) {
    console.error("visafaq widget: add data-rasa-url=\"https://<the Rasa server>\" to its <script> tag");
    return;
  }
  const RASA_URL = script.dataset.rasaUrl.replace(/\/+$/, "");
  const STYLESHEET = new URL("widget.css", script.src).href;
  const STORAGE_KEY = "visafaq-widget:" + RASA_URL;
  const MAX_STORED = 200; // messages kept across reloads
  const MAX_CHARS = 5000; // the REST channel's limit (channels/rest.py)
  const REQUEST_TIMEOUT_MS = 30000;
  const RETRY_DELAYS_MS = [5000, 10000, 20000, 30000]; // automatic reconnection attempts, then every 30 s
  const HANDOFF_PAYLOAD = "/request_human";
  const SOURCE_LINE = /^\s*Sources?:/;
  const ADDRESS = /https?:\/\/[^\s<>"'`]+/g;
  const SPEAKERS = { user: "You", bot: "Assistant", note: "Note" }; // read out before each message

  // --- state ------------------------------------------------------------------------------------------
  // { sender, messages: [{from: "user"|"bot"|"note", text, payload?, buttons?, pending?, id?}], open }
  let state = load();
  let busy = false;
  let offline = false;
  let retryTimer = null;
  let retryAttempt = 0;
  let coolingUntil = 0; // after a 429: no sending before this time (ms since the epoch)

  function newSender() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function load() {
    try {
      const saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.messages)) {
        saved.messages = saved.messages.filter(
          (m) => m && typeof m.text === "string" && Object.hasOwn(SPEAKERS, m.from)
        );
        return { sender: saved.sender, messages: saved.messages, open: Boolean(saved.open) };
      }
    } catch (_error) {
      // Storage disabled or corrupt: start a fresh conversation (it just won't survive a reload).
    }
    return { sender: newSender(), messages: [], open: false };
  }

  function save() {
    state.messages = state.messages.slice(-MAX_STORED);
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (_error) {
      // Storage full or disabled: the conversation goes on without surviving a reload.
    }
  }

  // --- building the widget ----------------------------------------------------------------------------
  function el(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  const host = el("div", { id: "visafaq-widget" });
  const root = host.attachShadow({ mode: "open" });
  root.append(el("link", { rel: "stylesheet", href: STYLESHEET }));

  const launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "vfq-panel" });
  const launcherLabel = el("span", {}, "Ask about Japanese visas");
  launcher.append(el("span", { class: "launcher-icon", "aria-hidden": "true" }, "?"), launcherLabel);

  const panel = el("section", { id: "vfq-panel", class: "panel", "aria-labelledby": "vfq-title" });
  panel.hidden = true;

  const header = el("header", { class: "header" });
  const title = el("h2", { id: "vfq-title" }, "Visa assistant");
  const restartButton = el("button", { type: "button", class: "header-button" }, "New chat");
  const closeButton = el("button", { type: "button", class: "header-button", "aria-label": "Close the chat" }, "Close");
  header.append(title, restartButton, closeButton);

  const notice = el(
    "p",
    { class: "notice" },
    "General information, not legal advice. For your own case, talk to staff or an immigration specialist."
  );

  const log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Conversation", tabindex: "0" });
  const emptyHint = el("p", { class: "hint" }, "Ask a question, for example: \u201cWhat documents do I need for the trainee visa?\u201d");

  const typing = el("p", { class: "typing", role: "status" });
  const typingDots = el("span", { class: "dots", "aria-hidden": "true" });
  typingDots.append(el("span"), el("span"), el("span"));
  typing.append(typingDots, el("span", {}, "The assistant is typing\u2026"));
  typing.hidden = true;

  const offlineBox = el("div", { class: "offline", role: "alert" });
  const offlineText = el("p", {}, "");
  const retryButton = el("button", { type: "button", class: "retry" }, "Retry now");
  offlineBox.append(offlineText, retryButton);
  offlineBox.hidden = true;

  const form = el("form", { class: "composer" });
  const inputLabel = el("label", { for: "vfq-input", class: "input-label" }, "Your question");
  const input = el("textarea", { id: "vfq-input", rows: "2", maxlength: String(MAX_CHARS), autocomplete: "off", "aria-describedby": "vfq-input-help" });
  const inputHelp = el("p", { id: "vfq-input-help", class: "input-help" }, "Enter sends; Shift+Enter starts a new line.");
  const sendButton = el("button", { type: "submit", class: "send" }, "Send");
  const composerRow = el("div", { class: "composer-row" });
  composerRow.append(input, sendButton);
  form.append(inputLabel, composerRow, inputHelp);

  const staffButton = el("button", { type: "button", class: "staff" }, "Talk to staff");

  // Suggested replies sit outside the log: the live region announces messages, not every button change.
  const quick = el("div", { class: "quick", role: "group", "aria-label": "Suggested replies" });
  quick.hidden = true;

  panel.append(header, notice, log, typing, quick, offlineBox, form, staffButton);
  root.append(panel, launcher);

  // --- rendering messages -----------------------------------------------------------------------------
  /** The assistant's source line as text, with its http(s) addresses as links. */
  function sourceLine(line) {
    const span = el("span", { class: "source" });
    let last = 0;
    for (const match of line.matchAll(ADDRESS)) {
      const address = match[0].replace(/[.,;:!?)\]]+$/, "");
      let url;
      try {
        url = new URL(address);
      } catch (_error) {
        continue;
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") continue;
      span.append(document.createTextNode(line.slice(last, match.index)));
      const link = el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer" }, address);
      span.append(link);
      last = match.index + address.length;
    }
    span.append(document.createTextNode(line.slice(last)));
    return span;
  }

  function messageBody(message) {
    const body = el("p", { class: "text" });
    const lines = message.text.split("\n");
    lines.forEach((line, index) => {
      if (index > 0) body.append(document.createTextNode("\n"));
      if (message.from === "bot" && SOURCE_LINE.test(line)) body.append(sourceLine(line));
      else body.append(document.createTextNode(line));
    });
    return body;
  }

  const nodes = new WeakMap(); // message -> its element in the log

  function messageNode(message) {
    const item = el("div", { class: "msg " + message.from });
    item.append(el("span", { class: "visually-hidden" }, SPEAKERS[message.from] + ": "));
    if (message.text) item.append(messageBody(message));
    nodes.set(message, item);
    markPending(message, Boolean(message.pending));
    return item;
  }

  function markPending(message, pending) {
    message.pending = pending;
    const item = nodes.get(message);
    if (!item) return;
    const marker = item.querySelector(".pending");
    if (pending && !marker) item.append(el("span", { class: "pending" }, "Not sent yet"));
    if (!pending && marker) marker.remove();
  }

  /** The whole log, once at start: later changes add to it, so the live region announces only what is new. */
  function renderLog() {
    log.replaceChildren();
    if (!state.messages.length) log.append(emptyHint);
    for (const message of state.messages) log.append(messageNode(message));
    renderQuickReplies();
  }

  /** Buttons belong to the assistant's latest turn only: older ones would answer questions no longer asked. */
  function renderQuickReplies() {
    const buttons = [];
    let last = state.messages.length - 1;
    while (last >= 0 && state.messages[last].from === "note") last--; // a note does not end the turn
    for (let i = last; i >= 0 && state.messages[i].from === "bot"; i--) {
      buttons.unshift(...(state.messages[i].buttons || []));
    }
    quick.replaceChildren();
    for (const button of buttons) {
      if (!button || typeof button.title !== "string" || typeof button.payload !== "string") continue;
      const node = el("button", { type: "button" }, button.title);
      node.addEventListener("click", () => send(button.payload, button.title));
      quick.append(node);
    }
    quick.hidden = !quick.childElementCount;
    updateControls();
  }

  function append(message) {
    if (emptyHint.isConnected) emptyHint.remove();
    state.messages.push(message);
    const node = messageNode(message);
    log.append(node);
    renderQuickReplies();
    save();
    scrollToEnd();
    return message;
  }

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    updateControls();
    scrollToEnd();
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function cooling() {
    return Date.now() < coolingUntil;
  }

  function updateControls() {
    const blocked = busy || offline || cooling();
    sendButton.disabled = blocked;
    staffButton.disabled = blocked;
    for (const button of quick.querySelectorAll("button")) button.disabled = blocked;
  }

  // --- talking to the Rasa server ---------------------------------------------------------------------
  class Unreachable extends Error {}
  // 503: the server is up but its stores are not. It says so (as text) and when to try again (Retry-After).
  class Unavailable extends Unreachable {
    constructor(said, retryAfterMs) {
      super(said);
      this.retryAfterMs = retryAfterMs;
    }
  }
  const MAX_RETRY_AFTER_MS = 60000;

  // `messageId` stays the same when a message is sent again: if its first try reached the server (a reply
  // lost on the way back, a replica that died after storing it), the server answers it once, from what it
  // stored, instead of handling it a second time (channels/rest.py).
  async function post(message, messageId) {
    let response;
    try {
      response = await fetch(RASA_URL + "/webhooks/rest/webhook", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: state.sender, message, message_id: messageId }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        credentials: "omit",
      });
    } catch (error) {
      throw new Unreachable(String(error));
    }
    if (response.status === 503) {
      let said = "";
      try {
        const body = await response.json();
        said = typeof body.message === "string" ? body.message.slice(0, 300) : "";
      } catch (_error) {
        // not JSON: the general notice
      }
      const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
      const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : 0;
      throw new Unavailable(said, retryAfterMs);
    }
    if (response.status >= 500) throw new Unreachable("HTTP " + response.status);
    if (response.status === 429) {
      // Too many messages: the body says how long to wait (another origin cannot read Retry-After).
      let wait = Number(response.headers.get("Retry-After")) || 10;
      let reason = "";
      try {
        const body = await response.json();
        if (Number.isFinite(body.retry_after) && body.retry_after > 0) wait = body.retry_after;
        reason = typeof body.message === "string" ? body.message : "";
      } catch (_error) {
        // not JSON: the default wait and wording
      }
      wait = Math.min(Math.ceil(wait), 3600);
      return { limited: wait, reason: reason || "Too many messages: please wait " + wait + " s and send again." };
    }
    if (!response.ok) {
      // A 4xx from the REST channel says what was wrong with the message; show it, as text.
      let reason = "";
      try {
        const body = await response.json();
        reason = typeof body.message === "string" ? body.message : "";
      } catch (_error) {
        // not JSON: no reason to show
      }
      return { rejected: reason || "the assistant could not take that message (HTTP " + response.status + ")" };
    }
    const replies = await response.json().catch(() => []);
    return { replies: Array.isArray(replies) ? replies : [] };
  }

  async function deliver(message) {
    setBusy(true);
    try {
      if (!message.id) message.id = newSender(); // messages kept from before ids had none
      const result = await post(message.payload || message.text, message.id);
      markPending(message, false);
      if (result.limited) {
        holdBack(message, result.limited, result.reason);
      } else if (result.rejected) {
        append({ from: "note", text: "Not sent: " + result.rejected });
      } else {
        for (const reply of result.replies) {
          const text = typeof reply.text === "string" ? reply.text : "";
          const buttons = Array.isArray(reply.buttons) ? reply.buttons : [];
          if (text || buttons.length) append({ from: "bot", text, buttons });
        }
      }
      setOffline(false);
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
      markPending(message, true);
      setOffline(true, error instanceof Unavailable ? error : null);
    } finally {
      save();
      setBusy(false);
    }
  }

  /** A message the server would not take yet (429): out of the log again, its text back in the box (or its
   * buttons back, for a button), and no sending until the wait is over. Nothing of it is lost. */
  function holdBack(message, seconds, reason) {
    const index = state.messages.indexOf(message);
    if (index >= 0) state.messages.splice(index, 1);
    const node = nodes.get(message);
    if (node) node.remove();
    const typed = !message.payload || message.payload.trim() === message.text; // not a button's payload
    if (typed && !input.value.trim()) input.value = message.payload || message.text;
    append({ from: "note", text: reason + (typed ? " Your message is back in the box." : "") });
    coolingUntil = Date.now() + seconds * 1000;
    setTimeout(updateControls, seconds * 1000 + 50);
    renderQuickReplies();
  }

  function send(payload, shownAs) {
    if (busy || offline || cooling()) return;
    const text = (shownAs || payload).trim();
    if (!text) return;
    deliver(append({ from: "user", text, payload, id: newSender() }));
    input.focus();
  }

  // --- unreachable server and retry -------------------------------------------------------------------
  function setOffline(value, unavailable = null) {
    offline = value;
    offlineBox.hidden = !value;
    if (value) {
      const pending = state.messages.some((m) => m.pending);
      const headline = unavailable && unavailable.message ? unavailable.message : "Can't reach the assistant right now.";
      offlineText.textContent =
        headline + " " +
        (pending ? "Your message is kept and will be sent when the connection is back. " : "") +
        "Trying again automatically.";
      scheduleRetry(unavailable ? unavailable.retryAfterMs : 0);
      scrollToEnd(); // the banner takes room from the log: keep the latest message in view
    } else {
      clearTimeout(retryTimer);
      retryTimer = null;
      retryAttempt = 0;
    }
    updateControls();
  }

  function scheduleRetry(atLeastMs = 0) {
    clearTimeout(retryTimer);
    const delay = Math.max(atLeastMs, RETRY_DELAYS_MS[Math.min(retryAttempt, RETRY_DELAYS_MS.length - 1)]);
    retryAttempt += 1;
    retryTimer = setTimeout(retry, delay);
  }

  async function reachable() {
    try {
      const response = await fetch(RASA_URL + "/", { signal: AbortSignal.timeout(5000), credentials: "omit" });
      return response.ok;
    } catch (_error) {
      return false;
    }
  }

  async function retry() {
    if (busy) return;
    clearTimeout(retryTimer);
    retryButton.disabled = true;
    retryButton.textContent = "Trying\u2026";
    try {
      const pending = state.messages.find((m) => m.pending);
      if (pending) await deliver(pending);
      else if (await reachable()) setOffline(false);
      else setOffline(true);
    } finally {
      retryButton.disabled = false;
      retryButton.textContent = "Retry now";
    }
  }

  // --- opening, closing, keyboard ---------------------------------------------------------------------
  function setOpen(open, { focus = true } = {}) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcherLabel.textContent = open ? "Hide the visa assistant" : "Ask about Japanese visas";
    save();
    if (open) {
      scrollToEnd();
      if (focus) input.focus();
      if (state.messages.some((m) => m.pending)) setOffline(true);
      else reachable().then((ok) => { if (!ok) setOffline(true); });
    } else if (focus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", () => setOpen(panel.hidden));
  closeButton.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy || offline || cooling() || !input.value.trim()) return;
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  staffButton.addEventListener("click", () => send(HANDOFF_PAYLOAD, "Talk to staff"));
  retryButton.addEventListener("click", retry);
  restartButton.addEventListener("click", () => {
    if (busy) return;
    state = { sender: newSender(), messages: [], open: true };
    save();
    setOffline(false);
    renderLog();
    input.focus();
  });
  window.addEventListener("online", () => { if (offline) retry(); });

  function start() {
    document.body.append(host);
    renderLog();
    if (state.open) setOpen(true, { focus: false });
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
