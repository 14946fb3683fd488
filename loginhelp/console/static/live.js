/* Live pages of the agent console (live.html, live_chat.html): plain JavaScript, no framework.
 *
 * The server renders each page complete; this script keeps it current from the
 * server-sent events of /live/events, beats the heartbeat that makes an agent
 * with the page open available, and sends chat messages through the JSON API.
 * Customer and agent text is inserted with textContent only, never as HTML.
 */
(function () {
  "use strict";

  var root = document.getElementById("live-page");
  if (!root) { return; }

  var HEARTBEAT_MS = 20000;
  var RELEASED_LABELS = { assistant: "handed back to the assistant", ticket: "turned into a ticket",
                          closed: "closed", expired: "left the queue" };
  var csrfMeta = document.querySelector("meta[name=csrf-token]");
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var page = root.dataset.page;
  var apiUrl = root.dataset.apiUrl;
  var liveUrl = root.dataset.liveUrl;
  var labels = root.dataset.labels ? JSON.parse(root.dataset.labels) : [];
  var conversationId = root.dataset.conversation || null;
  var lastN = parseInt(root.dataset.after || "0", 10) || 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function pathOf(id) {
    return id.split("/").map(encodeURIComponent).join("/");
  }

  /* Same format as the console's Jinja filter "duration". */
  function duration(seconds) {
    var total = Math.max(0, Math.round(seconds));
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (total < 60) { return total + "s"; }
    if (total < 3600) { return Math.floor(total / 60) + "m " + two(total % 60) + "s"; }
    return Math.floor(total / 3600) + "h " + two(Math.floor((total % 3600) / 60)) + "m";
  }

  function when(iso) {
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) { return ""; }
    return moment.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  /* ------------------------------------------------------------ waiting times */

  var receivedAt = performance.now();
  function tick() {
    var elapsed = (performance.now() - receivedAt) / 1000;
    document.querySelectorAll(".waited[data-seconds]").forEach(function (node) {
      node.textContent = duration(parseFloat(node.dataset.seconds) + elapsed);
    });
  }
  setInterval(tick, 1000);

  /* ------------------------------------------------------ heartbeat, status */

  function showAvailability(you, count) {
    var status = document.getElementById("availability-status");
    if (status && you) {
      status.textContent = you.chosen === true ? "You are available (you said so)."
        : you.chosen === false ? "You are away."
        : you.available ? "You are available while this page is open." : "You are not available.";
    }
    var agents = document.getElementById("available-agents");
    if (agents && typeof count === "number") { agents.textContent = String(count); }
  }

  function heartbeat() {
    post(apiUrl + "/heartbeat").then(function (result) {
      if (result.ok) { showAvailability(result.data.availability, result.data.available_agents); }
    }).catch(function () { /* the next beat tries again */ });
  }
  heartbeat();
  setInterval(heartbeat, HEARTBEAT_MS);

  document.querySelectorAll("[data-set-available]").forEach(function (button) {
    button.addEventListener("click", function () {
      post(apiUrl + "/availability", { available: button.dataset.setAvailable === "true" }).then(function (result) {
        if (result.ok) { showAvailability(result.data.availability, result.data.available_agents); }
      });
    });
  });

  /* ---------------------------------------------------------------- queue */

  function learned(context) {
    var list = el("dl", "learned");
    list.setAttribute("data-testid", "learned");
    labels.forEach(function (pair) {
      var value = context ? context[pair[0]] : null;
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) { return; }
      list.appendChild(el("dt", null, pair[1]));
      var dd = el("dd", null, Array.isArray(value) ? value.join(", ") : value);
      dd.dataset.key = pair[0];
      list.appendChild(dd);
    });
    return list;
  }

  function chatLink(conversation) {
    var link = el("a", "mono", conversation.conversation_id);
    link.href = liveUrl + "/" + pathOf(conversation.conversation_id);
    return link;
  }

  function queueItem(entry) {
    var item = el("li", "live-item");
    item.setAttribute("data-testid", "queue-item");
    item.dataset.conversation = entry.conversation_id;
    var head = el("div", "live-head");
    var place = el("span", "badge place", "#" + entry.place);
    place.title = "place in the queue";
    head.appendChild(place);
    head.appendChild(chatLink(entry));
    if (entry.channel) { head.appendChild(el("span", "muted", "via " + entry.channel)); }
    var waiting = el("span", "muted", "waiting ");
    var waited = el("span", "waited", duration(entry.waiting_seconds));
    waited.dataset.seconds = String(entry.waiting_seconds);
    waiting.appendChild(waited);
    head.appendChild(waiting);
    item.appendChild(head);
    item.appendChild(learned(entry.context));
    var form = el("form", "inline");
    form.method = "post";
    form.action = liveUrl + "/" + pathOf(entry.conversation_id) + "/claim";
    var token = el("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrf;
    form.appendChild(token);
    var claim = el("button", null, "Claim");
    claim.type = "submit";
    claim.setAttribute("data-testid", "claim");
    form.appendChild(claim);
    item.appendChild(form);
    return item;
  }

  function yourChat(conversation) {
    var item = el("li", "live-item");
    item.setAttribute("data-testid", "your-chat");
    item.dataset.conversation = conversation.conversation_id;
    var head = el("div", "live-head");
    head.appendChild(chatLink(conversation));
    if (conversation.channel) { head.appendChild(el("span", "muted", "via " + conversation.channel)); }
    item.appendChild(head);
    item.appendChild(learned(conversation.context));
    return item;
  }

  function renderList(id, items, build) {
    var list = document.getElementById(id);
    var empty = document.getElementById(id + "-empty");
    if (!list) { return; }
    list.replaceChildren.apply(list, items.map(build));
    if (empty) { empty.hidden = items.length > 0; }
  }

  function onQueue(snapshot) {
    receivedAt = performance.now();
    showAvailability(snapshot.you, snapshot.available_agents);
    if (page !== "queue") { return; }
    renderList("queue", snapshot.queue, queueItem);
    renderList("yours", snapshot.yours, yourChat);
  }

  /* ----------------------------------------------------------------- chat */

  function problem(text) {
    var node = document.getElementById("live-problem");
    if (!node) { return; }
    node.textContent = text || "";
    node.hidden = !text;
  }

  function addMessage(message) {
    var list = document.getElementById("live-messages");
    if (!list || message.conversation_id !== conversationId) { return; }
    if (list.querySelector('[data-n="' + Number(message.n) + '"]')) { return; }
    var sender = ["customer", "agent", "system"].indexOf(message.sender) >= 0 ? message.sender : "system";
    var item = el("li", "live-msg " + sender);
    item.dataset.n = String(Number(message.n));
    item.setAttribute("data-testid", "live-message");
    item.appendChild(el("span", "who", sender === "agent" ? (message.agent || "agent")
                                       : sender === "customer" ? "Customer" : "·"));
    item.appendChild(el("span", "text", message.text));
    item.appendChild(el("span", "muted small", when(message.created_at)));
    var before = null;
    list.querySelectorAll("[data-n]").forEach(function (node) {
      if (before === null && Number(node.dataset.n) > Number(message.n)) { before = node; }
    });
    list.insertBefore(item, before);
    lastN = Math.max(lastN, Number(message.n));
    list.scrollTop = list.scrollHeight;
  }

  function onState(state) {
    var badge = document.getElementById("live-state");
    if (badge) {
      badge.className = "badge live-" + state.state;
      badge.textContent = state.state === "waiting" ? "waiting in the queue" + (state.place ? " (place " + state.place + ")" : "")
        : state.state === "active" ? (state.mine ? "with you" : "with " + (state.claimed_by || "another agent"))
        : "ended (" + (RELEASED_LABELS[state.released_to] || state.released_to) + ")";
    }
    var claimForm = document.getElementById("claim-form");
    if (claimForm) { claimForm.hidden = state.state !== "waiting"; }
    var mine = document.getElementById("mine");
    if (mine) { mine.hidden = !state.mine; }
  }

  var sendForm = document.getElementById("send-form");
  if (sendForm) {
    sendForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = sendForm.querySelector("textarea[name=text]");
      var text = box.value;
      if (!text.trim()) { return; }
      problem("");
      post(root.dataset.sendUrl, { text: text }).then(function (result) {
        if (result.ok) {
          box.value = "";
          addMessage(result.data.message);
        } else {
          problem(result.data.error || ("The message was not sent (" + result.status + ")."));
        }
      }).catch(function () { problem("The message was not sent: the console is unreachable."); });
    });
  }

  /* --------------------------------------------------------------- events */

  var connection = document.getElementById("live-connection");
  function connectionText(text) { if (connection) { connection.textContent = text; } }

  var eventsUrl = root.dataset.eventsUrl;
  if (conversationId) { eventsUrl += (eventsUrl.indexOf("?") >= 0 ? "&" : "?") + "after=" + lastN; }
  var source = new EventSource(eventsUrl);
  source.addEventListener("open", function () { connectionText("Live: updates arrive on their own."); });
  source.addEventListener("error", function () {
    connectionText(source.readyState === EventSource.CLOSED
      ? "Updates stopped (signed out?): reload the page." : "Reconnecting\u2026");
  });
  source.addEventListener("queue", function (event) { onQueue(JSON.parse(event.data)); });
  source.addEventListener("message", function (event) { addMessage(JSON.parse(event.data)); });
  source.addEventListener("state", function (event) { onState(JSON.parse(event.data)); });
  window.addEventListener("pagehide", function () { source.close(); });
}());
