/*
 * CoinEx login-help chat widget.
 *
 * A small widget for Rasa's socket.io channel (socket.io-client 4, served from
 * web/node_modules by web/serve.py; no framework, no CDN). What it does:
 *   - keeps one conversation per browser: the session id and the transcript are
 *     kept in localStorage, so a reload shows the conversation and continues it
 *     (the server joins the widget to its session's room: session_persistence);
 *   - greets: a new conversation starts with "/greet", so the assistant's first
 *     message and its buttons appear as soon as the chat is opened;
 *   - sends with every message the custom data the actions use (metadata_key
 *     "customData"): user agent, language, time zone and the current clock time;
 *   - renders bot text as text (never HTML) and buttons as buttons; a button
 *     sends its payload and shows its title as the customer's message.
 * Config: window.LOGINHELP_CHAT_CONFIG = {socketUrl, socketPath} (served as /config.js).
 */
(function () {
  "use strict";

  var config = window.LOGINHELP_CHAT_CONFIG || {};
  var STORAGE_KEY = "coinex.loginhelp.chat.v1";
  var MAX_TEXT = 4096;             // same cap as the server (loginhelp/channels/common.py)
  var MAX_STORED_MESSAGES = 200;
  var IDLE_RESTART_MS = 60 * 60 * 1000;  // domain.yml session_expiration_time: 60 minutes
  var TYPING_TIMEOUT_MS = 30000;

  // --- State (persisted) ---------------------------------------------------------
  function loadState() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved === "object" && Array.isArray(saved.messages)) return saved;
    } catch (e) { /* storage unavailable or corrupt: start afresh */ }
    return { sessionId: null, open: false, lastActivity: 0, messages: [] };
  }
  var state = loadState();
  function saveState() {
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    try { window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }

  function customData() {
    var timezone = null;
    try { timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (e) { /* old browser */ }
    return {
      user_agent: navigator.userAgent,
      language: navigator.language || null,
      timezone: timezone,
      client_time: Date.now()
    };
  }

  // --- DOM ----------------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var root = el("div", "lhc");
  var launcher = el("button", "lhc-launcher", "Chat with the login helper");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "lhc-panel");

  var panel = el("section", "lhc-panel");
  panel.id = "lhc-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "CoinEx login help chat");

  var header = el("header", "lhc-header");
  var titles = el("div", "lhc-titles");
  titles.appendChild(el("h2", "lhc-title", "CoinEx login help"));
  var status = el("p", "lhc-status", "Connecting…");
  status.setAttribute("aria-live", "polite");
  titles.appendChild(status);
  var closeButton = el("button", "lhc-close", "×");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close the chat");
  header.appendChild(titles);
  header.appendChild(closeButton);

  var log = el("div", "lhc-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");

  var typing = el("div", "lhc-typing");
  typing.hidden = true;
  typing.setAttribute("aria-label", "The assistant is typing");
  typing.appendChild(el("span"));
  typing.appendChild(el("span"));
  typing.appendChild(el("span"));

  var form = el("form", "lhc-form");
  var input = el("textarea", "lhc-input");
  input.rows = 1;
  input.maxLength = MAX_TEXT;
  input.placeholder = "Describe your login problem…";
  input.setAttribute("aria-label", "Your message");
  var sendButton = el("button", "lhc-send", "Send");
  sendButton.type = "submit";
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  // --- Rendering ----------------------------------------------------------------------
  function renderMessage(message, index) {
    var row = el("div", "lhc-msg lhc-from-" + (message.from === "user" ? "user" : "bot"));
    if (message.text) row.appendChild(el("p", "lhc-bubble", message.text));
    if (message.image) {
      var img = el("img", "lhc-image");
      img.alt = "Image from the assistant";
      img.src = message.image;
      row.appendChild(img);
    }
    if (message.buttons && message.buttons.length && !message.answered) {
      var group = el("div", "lhc-buttons");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested answers");
      message.buttons.forEach(function (button) {
        var b = el("button", "lhc-button", button.title);
        b.type = "button";
        b.addEventListener("click", function () {
          send(button.payload, button.title);
        });
        group.appendChild(b);
      });
      row.appendChild(group);
    }
    row.setAttribute("data-index", String(index));
    return row;
  }

  function renderAll() {
    log.textContent = "";
    state.messages.forEach(function (message, index) { log.appendChild(renderMessage(message, index)); });
    scrollDown();
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMessage(message) {
    state.messages.push(message);
    state.lastActivity = Date.now();
    saveState();
    log.appendChild(renderMessage(message, state.messages.length - 1));
    scrollDown();
  }

  // Buttons answer the question they came with: once the customer replies
  // (by button or by typing), the open buttons are retired.
  function retireButtons() {
    var changed = false;
    state.messages.forEach(function (message) {
      if (message.buttons && message.buttons.length && !message.answered) {
        message.answered = true;
        changed = true;
      }
    });
    if (changed) {
      saveState();
      Array.prototype.forEach.call(log.querySelectorAll(".lhc-buttons"), function (group) {
        group.parentNode.removeChild(group);
      });
    }
  }

  var typingTimer = null;
  function showTyping(on) {
    typing.hidden = !on;
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS);
    scrollDown();
  }

  // --- Connection ---------------------------------------------------------------------
  var socket = null;
  var ready = false;        // session confirmed: messages can be sent
  var greeting = false;     // a /greet is on its way

  function setReady(on, text) {
    ready = on;
    input.disabled = !on;
    sendButton.disabled = !on;
    status.textContent = text;
    panel.classList.toggle("lhc-offline", !on);
  }

  function connect() {
    if (socket || typeof window.io !== "function") {
      if (!socket) setReady(false, "Chat unavailable (socket.io client missing)");
      return;
    }
    socket = window.io(config.socketUrl || undefined, {
      path: config.socketPath || "/socket.io",
      reconnectionDelayMax: 10000
    });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId || null });
    });
    socket.on("session_confirm", function (sessionId) {
      var id = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id);
      if (!id) return;
      var idle = state.lastActivity && Date.now() - state.lastActivity > IDLE_RESTART_MS;
      if ((state.sessionId && id !== state.sessionId) || idle) {
        // A new server-side session: the old transcript no longer applies.
        state.messages = [];
        log.textContent = "";
      }
      state.sessionId = id;
      saveState();
      setReady(true, "Online");
      if (state.messages.length === 0 && !greeting) {
        greeting = true;
        emitMessage("/greet");
      }
    });
    socket.on("bot_uttered", function (data) {
      greeting = false;
      showTyping(false);
      if (!data || typeof data !== "object") return;
      var message = { from: "bot", text: typeof data.text === "string" ? data.text : "" };
      var buttons = data.quick_replies || data.buttons;
      if (Array.isArray(buttons)) {
        message.buttons = buttons.filter(function (b) {
          return b && typeof b.title === "string" && typeof b.payload === "string";
        }).map(function (b) { return { title: b.title, payload: b.payload }; });
      }
      var attachment = data.attachment;
      if (attachment && attachment.type === "image" && attachment.payload &&
          typeof attachment.payload.src === "string" && /^https?:\/\//.test(attachment.payload.src)) {
        message.image = attachment.payload.src;
      }
      if (!message.text && !message.image && !(message.buttons && message.buttons.length)) return;
      addMessage(message);
    });
    socket.on("disconnect", function () { setReady(false, "Reconnecting…"); });
    socket.on("connect_error", function () { setReady(false, "Can't reach the assistant, retrying…"); });
  }

  function emitMessage(text) {
    socket.emit("user_uttered", {
      message: text,
      session_id: state.sessionId,
      customData: customData()
    });
    showTyping(true);
  }

  // Send `text` (a typed message or a button's payload); show `display` as the customer's bubble.
  function send(text, display) {
    text = (text || "").trim().slice(0, MAX_TEXT);
    if (!text || !ready) return false;
    retireButtons();
    addMessage({ from: "user", text: display || text });
    emitMessage(text);
    return true;
  }

  // --- Open / close -----------------------------------------------------------------
  function setOpen(open) {
    state.open = open;
    saveState();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.classList.toggle("lhc-launcher-open", open);
    launcher.textContent = open ? "Hide the chat" : "Chat with the login helper";
    if (open) {
      connect();
      scrollDown();
      input.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeButton.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); launcher.focus(); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (send(input.value)) input.value = "";
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  function start() {
    document.body.appendChild(root);
    setReady(false, "Connecting…");
    renderAll();
    if (state.open) setOpen(true);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
