/*
 * supportbot chat panel (runs inside the widget's iframe, same origin as the API, or as a page of
 * its own when opened from a link in an e-mail). Every string from the customer, the bot, an agent,
 * DNS or SMTP goes through textContent. Where the conversation's token is kept: see SECURITY.md.
 */
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.hash.slice(1));
  var flow = params.get("flow") || "";
  var color = params.get("color") || "";
  var hostOrigin = "";
  try {
    hostOrigin = new URL(params.get("host") || "").origin;
  } catch (e) {
    hostOrigin = "";
  }
  var embedded = window.parent !== window;
  var storeKey = "supportbot:conversation:" + (flow || "default");
  var ID = /^[A-Za-z0-9_-]{1,100}$/;
  var ICONS = { pass: "\u2713", warn: "!", fail: "\u2717", unknown: "?", skipped: "\u2013" };
  var WAITING = { escalated: 1, with_agent: 1 };
  var ENDED = { resolved: 1, unresolved: 1 };

  var $ = function (id) { return document.getElementById(id); };
  var log = $("sb-log");
  var stateLine = $("sb-state");
  var statusLine = $("sb-status");
  var progressLine = $("sb-progress");
  var choicesBox = $("sb-choices");
  var form = $("sb-form");
  var input = $("sb-input");
  var sendButton = $("sb-send");
  var humanButton = $("sb-human");
  var closeButton = $("sb-close");
  var menuButton = $("sb-menu");
  var menuItems = $("sb-menu-items");

  var conv = null; // {id, token, since, email, skipped}
  var config = { mail: false, hours: null };
  var rendered = 0; // transcript messages already on screen
  var status = "active";
  var agentName = "";
  var sawPerson = false; // an agent or a hand-over happened: "back with the bot" after it
  var chain = Promise.resolve();
  var streamAbort = null;
  var shownAwaiting = "";
  var wantFocus = false; // the launcher opened us: focus the first answer once it is there
  var panelOpen = !embedded;
  var modal = false;
  var probesDone = 0;
  var pending = 0; // turns sent and not answered yet

  // --- strings ---------------------------------------------------------------------------------

  var TABLE = window.SUPPORTBOT_STRINGS || { en: {} };
  var lang = pickLanguage(params.get("lang"));
  var strings = Object.assign({}, TABLE.en, TABLE[lang] || {});

  function pickLanguage(asked) {
    var wanted = [asked || ""].concat(navigator.languages || [navigator.language || ""]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split("-")[0];
      if (code && TABLE[code]) {
        return code;
      }
    }
    return "en";
  }

  function t(key, values) {
    var text = String(strings[key] || TABLE.en[key] || key);
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function applyStrings() {
    document.documentElement.lang = lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-text]"), function (node) {
      node.textContent = t(node.getAttribute("data-text"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-label]"), function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-label")));
    });
    input.placeholder = t("typeAnswer");
    var title = params.get("title") || t("title");
    $("sb-title").textContent = title;
    document.title = title;
  }

  applyStrings();
  if (/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(color)) {
    document.documentElement.style.setProperty("--sb-color", color);
  }
  if (!embedded) {
    closeButton.hidden = true;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function say(text) {
    statusLine.textContent = text || "";
  }

  function enqueue(job) {
    chain = chain.then(job).catch(function (err) {
      say(err && err.userMessage ? err.userMessage : t("failed"));
    });
    return chain;
  }

  function toHost(message) {
    if (embedded && hostOrigin) {
      // targetOrigin: only the page that embeds us, and only if it really has that origin.
      window.parent.postMessage(message, hostOrigin);
    }
  }

  // --- where the conversation is kept ----------------------------------------------------------

  function saveConv() {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(conv));
    } catch (e) {
      /* third-party storage blocked: the host page keeps it (below) */
    }
    toHost({ type: "supportbot:store", conversation: conv });
  }

  function validConv(data) {
    return data && typeof data.id === "string" && ID.test(data.id) &&
      typeof data.token === "string" && data.token.length <= 512 ? data : null;
  }

  function loadOwn() {
    try {
      var raw = window.localStorage.getItem(storeKey);
      return validConv(raw ? JSON.parse(raw) : null);
    } catch (e) {
      return null;
    }
  }

  function forgetConv() {
    try {
      window.localStorage.removeItem(storeKey);
    } catch (e) {
      /* ignore */
    }
    toHost({ type: "supportbot:forget" });
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (conv) {
      headers.Authorization = "Bearer " + conv.token;
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit"
    }).then(function (res) {
      return res.json().catch(function () {
        return {};
      }).then(function (data) {
        if (!res.ok) {
          var err = new Error("HTTP " + res.status);
          err.status = res.status;
          if (res.status === 429) {
            err.userMessage = t("tooFast", { wait: res.headers.get("Retry-After") || "a few" });
          } else {
            err.userMessage = (data && data.message) || t("failed");
          }
          throw err;
        }
        return data;
      });
    });
  }

  function convPath(suffix) {
    return "/api/conversations/" + encodeURIComponent(conv.id) + (suffix || "");
  }

  // --- rendering -------------------------------------------------------------------------------

  function renderMessage(message, live) {
    if (message.type === "probe" && message.probe) {
      renderProbe(message.probe, message.text);
      return;
    }
    var role = message.role === "user" || message.role === "agent" ? message.role : "bot";
    if (role === "agent" || message.type === "handoff") {
      sawPerson = true;
    }
    if (role === "agent" && message.agent) {
      agentName = String(message.agent);
    }
    var box = el("div", "msg " + role + (message.type === "handoff" ? " handoff" : ""));
    var who = role === "agent" && message.agent ? String(message.agent) : t(role === "user" ? "you" : role);
    box.appendChild(el("span", role === "agent" ? "who" : "who visually-hidden", who + ":"));
    box.appendChild(document.createTextNode(message.text || ""));
    log.appendChild(box);
    if (live && role === "agent" && (!panelOpen || document.hidden)) {
      toHost({ type: "supportbot:unread" });
    }
  }

  function renderProbe(probe, fallback) {
    var list = log.lastElementChild;
    if (!list || list.tagName !== "UL" || !list.classList.contains("checklist")) {
      list = el("ul", "checklist");
      list.setAttribute("aria-label", t("checksRan"));
      log.appendChild(list);
    }
    var state = ICONS[probe.status] ? probe.status : "unknown";
    var item = el("li", state);
    var mark = el("span", "mark", ICONS[state]);
    mark.setAttribute("aria-hidden", "true");
    item.appendChild(mark);
    var text = el("span", "text");
    text.appendChild(el("span", "visually-hidden", t(state) + ": "));
    text.appendChild(document.createTextNode(probe.summary || fallback || ""));
    item.appendChild(text);
    if (probe.details && typeof probe.details === "object" && Object.keys(probe.details).length) {
      var details = el("details");
      details.appendChild(el("summary", "", t("details")));
      details.appendChild(el("pre", "", JSON.stringify(probe.details, null, 2)));
      item.appendChild(details);
    }
    list.appendChild(item);
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function clock(ms) {
    try {
      return new Date(ms).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return new Date(ms).toTimeString().slice(0, 5);
    }
  }

  // Outside office hours: when a person will be in, in the customer's own clock; "" when they are in.
  function awayUntil() {
    var opens = config.hours && Date.parse(config.hours.next_open);
    if (!opens || opens <= Date.now()) {
      return "";
    }
    try {
      return new Date(opens).toLocaleString(lang, { weekday: "long", hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return new Date(opens).toString().slice(0, 21);
    }
  }

  // The one line that always says where the conversation stands.
  function renderState() {
    var text;
    if (status === "with_agent") {
      text = t("stateAgent", { agent: agentName || t("agent") });
    } else if (status === "escalated") {
      var since = clock(conv && conv.since ? conv.since : Date.now());
      var away = awayUntil();
      text = conv && conv.email
        ? t(away ? "stateAwayMail" : "stateWaitingMail", { time: since, email: conv.email, when: away })
        : t(away ? "stateAway" : "stateWaiting", { time: since, when: away });
    } else if (ENDED[status]) {
      text = t("stateDone");
    } else {
      text = sawPerson ? t("stateBack") : t("stateBot");
    }
    if (stateLine.textContent !== text) {
      stateLine.textContent = text;
    }
    stateLine.className = "state " + status;
    // Nothing to hand over before the conversation has started: a click then would be lost.
    humanButton.disabled = !conv || !!WAITING[status];
  }

  function setStatus(next) {
    status = next || status;
    if (WAITING[status] && conv && !conv.since) {
      conv.since = Date.now();
      saveConv();
    }
    renderState();
  }

  function clearChoices() {
    while (choicesBox.firstChild) {
      choicesBox.removeChild(choicesBox.firstChild);
    }
  }

  function renderAwaiting(turn, focusChoice) {
    setStatus(turn.status);
    if (turn.agent) {
      agentName = String(turn.agent);
      renderState();
    }
    var key = JSON.stringify([turn.status, turn.awaiting, askingContact()]);
    if (key === shownAwaiting) {
      if (focusChoice) {
        focusFirst();
      }
      return;
    }
    shownAwaiting = key;
    var hadFocus = choicesBox.contains(document.activeElement);
    clearChoices();
    var awaiting = turn.awaiting;
    if (askingContact()) {
      renderContactForm();
    } else if (awaiting && awaiting.kind === "choice") {
      (awaiting.choices || []).forEach(function (choice) {
        var button = el("button", "", choice.label);
        button.type = "button";
        button.addEventListener("click", function () {
          send({ choice: choice.id }, choice.label, true);
        });
        choicesBox.appendChild(button);
      });
    }
    input.placeholder = awaiting && awaiting.kind === "text" && awaiting.hint
      ? t("typeAnswerHint", { hint: awaiting.hint })
      : t("typeAnswer");
    if (ENDED[status] && !awaiting) {
      var again = el("button", "", t("newConversation"));
      again.type = "button";
      again.addEventListener("click", restart);
      choicesBox.appendChild(again);
    }
    markOverflow();
    if (focusChoice || hadFocus) {
      focusFirst();
    }
  }

  // When the answers do not all fit, say so and let the box scroll (it is also a tab stop).
  function markOverflow() {
    var more = choicesBox.scrollHeight > choicesBox.clientHeight + 2;
    choicesBox.classList.toggle("more", more);
    choicesBox.setAttribute("aria-label", more ? t("choices") + " (" + t("moreChoices") + ")" : t("choices"));
  }

  function askingContact() {
    return !!(config.mail && conv && WAITING[status] && !conv.email && !conv.skipped);
  }

  function renderContactForm() {
    var box = el("form", "contact");
    box.noValidate = true;
    var away = awayUntil();
    var label = el("label", "", away ? t("contactAskAway", { when: away }) : t("contactAsk"));
    label.htmlFor = "sb-email";
    var field = el("input");
    field.id = "sb-email";
    field.type = "email";
    field.autocomplete = "email";
    field.maxLength = 254;
    field.setAttribute("aria-describedby", "sb-email-error");
    var problem = el("p", "error");
    problem.id = "sb-email-error";
    var save = el("button", "", t("contactSave"));
    save.type = "submit";
    var skip = el("button", "secondary", t("contactSkip"));
    skip.type = "button";
    box.appendChild(label);
    box.appendChild(field);
    box.appendChild(problem);
    box.appendChild(save);
    box.appendChild(skip);
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = field.value.trim();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
        problem.textContent = t("contactBad");
        field.setAttribute("aria-invalid", "true");
        field.focus();
        return;
      }
      save.disabled = true;
      api("POST", convPath("/contact"), { email: value }).then(function (data) {
        conv.email = data.email;
        saveConv();
        shownAwaiting = "";
        sync();
        input.focus();
      }, function (err) {
        save.disabled = false;
        problem.textContent = err.userMessage || t("contactBad");
        field.setAttribute("aria-invalid", "true");
        field.focus();
      });
    });
    skip.addEventListener("click", function () {
      conv.skipped = true;
      saveConv();
      shownAwaiting = "";
      sync();
      input.focus();
    });
    choicesBox.appendChild(box);
  }

  function focusFirst() {
    var first = choicesBox.querySelector("button:not([disabled]), input");
    (first || input).focus();
  }

  function renderTurn(turn, focusChoice, live) {
    (turn.messages || []).forEach(function (m) {
      renderMessage(m, live);
    });
    renderAwaiting(turn, focusChoice || wantFocus);
    wantFocus = false;
    scrollDown();
  }

  // While a turn is out (a slow probe), answers can't be picked twice, but the customer can type
  // or ask for a person: those wait their turn in the queue.
  function busy(on) {
    pending += on ? 1 : -1;
    Array.prototype.forEach.call(choicesBox.querySelectorAll(".choices > button"), function (b) {
      b.disabled = pending > 0;
    });
    if (pending > 0) {
      probesDone = 0;
      progressLine.textContent = t("checkingFirst");
      progressLine.hidden = false;
    } else {
      progressLine.hidden = true;
      progressLine.textContent = "";
    }
  }

  // --- conversation ----------------------------------------------------------------------------

  function begin(turn) {
    rendered = (turn.messages || []).length;
    renderTurn(turn, false, false);
    say("");
    listen();
  }

  // The *Now functions run inside a queued job; the plain ones queue a job (a job that queued another
  // and waited for it would wait for itself).
  function startNow() {
    conv = null;
    busy(true);
    return api("POST", "/api/conversations", flow ? { flow: flow } : {}).then(function (turn) {
      conv = { id: turn.conversation, token: turn.token };
      saveConv();
      busy(false);
      sawPerson = false;
      begin(turn);
    }, function (err) {
      busy(false);
      throw err;
    });
  }

  function start() {
    return enqueue(startNow);
  }

  function resumeNow(saved) {
    conv = saved;
    return api("GET", convPath()).then(begin, function (err) {
      if (err.status === 401 || err.status === 404) {
        forgetConv();
        conv = null;
        return startNow();
      }
      throw err;
    });
  }

  function resume(saved) {
    return enqueue(function () {
      return resumeNow(saved);
    });
  }

  // A single-use link from an e-mail: exchange it for a session of our own, then drop it from the
  // address bar so a reload or a shared screenshot does not carry it.
  function redeem(ticket) {
    params.delete("resume");
    history.replaceState(null, "", window.location.pathname + "#" + params.toString());
    return enqueue(function () {
      return api("POST", "/api/conversations/resume", { ticket: ticket }).then(function (turn) {
        conv = { id: turn.conversation, token: turn.token, skipped: true };
        saveConv();
        begin(turn);
      }, function (err) {
        if (err.status === 404) {
          var saved = loadOwn();
          return (saved ? resumeNow(saved) : startNow()).then(function () {
            say(t("resumeFailed"));
          });
        }
        throw err;
      });
    });
  }

  function restart() {
    stopListening();
    forgetConv();
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    shownAwaiting = "";
    status = "active";
    agentName = "";
    start().then(function () {
      focusFirst();
    });
  }

  function send(incoming, shown, fromButton) {
    if (!conv) {
      return;
    }
    var mine = el("div", "msg user");
    mine.appendChild(el("span", "who visually-hidden", t("you") + ":"));
    mine.appendChild(document.createTextNode(shown));
    log.appendChild(mine);
    scrollDown();
    busy(true);
    enqueue(function () {
      return api("POST", convPath("/messages"), incoming).then(
        function (turn) {
          busy(false);
          say("");
          rendered += 1 + (turn.messages || []).length;
          renderTurn(turn, fromButton, true);
        },
        function (err) {
          busy(false);
          renderState();
          log.removeChild(mine);
          if (incoming.text !== undefined && !input.value) {
            input.value = incoming.text;
          }
          throw err;
        }
      );
    });
  }

  // Pull whatever the transcript has beyond what is on screen (agent replies, a hand-back).
  function sync() {
    return enqueue(function () {
      if (!conv) {
        return null;
      }
      return api("GET", convPath()).then(function (turn) {
        var messages = turn.messages || [];
        messages.slice(rendered).forEach(function (m) {
          renderMessage(m, true);
        });
        rendered = Math.max(rendered, messages.length);
        var typing = document.activeElement === input;
        renderAwaiting(turn, false);
        if (typing) {
          input.focus();
        }
        scrollDown();
      });
    });
  }

  // --- live events (fetch stream, so the token travels in a header, not the URL) ---------------

  function stopListening() {
    if (streamAbort) {
      streamAbort.abort();
      streamAbort = null;
    }
  }

  function onEvent(event) {
    if (event.type === "probe" && event.probe) {
      // A check finished while the turn is still out: say so now, not when the turn returns.
      // The event can arrive after the turn itself; the checklist says it all by then.
      if (pending === 0) {
        return;
      }
      probesDone += 1;
      progressLine.hidden = false;
      progressLine.textContent = t("checking", { done: probesDone }) + " " +
        t("checked", { summary: event.probe.summary || event.probe.id || "" });
    } else if (event.type === "status") {
      if (event.agent) {
        agentName = String(event.agent);
      }
      sync();
    } else if (event.type === "message" || event.type === "refresh") {
      if (!event.message || event.message.role !== "user") {
        sync();
      }
    }
  }

  function listen() {
    stopListening();
    if (!conv || !window.fetch || !window.ReadableStream || !window.AbortController) {
      return;
    }
    var controller = new AbortController();
    streamAbort = controller;
    var me = conv;
    var delay = 1000;

    function handle(block) {
      var data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("data:") === 0) {
          data += line.slice(5).replace(/^ /, "");
        }
      });
      if (!data) {
        return;
      }
      try {
        onEvent(JSON.parse(data));
      } catch (e) {
        /* not ours */
      }
    }

    function connect() {
      if (controller.signal.aborted || conv !== me) {
        return;
      }
      fetch(convPath("/events"), {
        headers: { Authorization: "Bearer " + me.token, Accept: "text/event-stream" },
        cache: "no-store",
        credentials: "omit",
        signal: controller.signal
      }).then(function (res) {
        if (res.status === 401 || res.status === 404) {
          return null;
        }
        if (!res.ok || !res.body) {
          throw new Error("HTTP " + res.status);
        }
        delay = 1000;
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) {
              throw new Error("stream ended");
            }
            buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
            var cut;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              handle(buffer.slice(0, cut));
              buffer = buffer.slice(cut + 2);
            }
            return pump();
          });
        }
        sync(); // catch up on anything sent while we were not connected
        return pump();
      }).catch(function () {
        if (!controller.signal.aborted) {
          window.setTimeout(connect, delay);
          delay = Math.min(delay * 2, 30000);
        }
      });
    }
    connect();
  }

  // --- wiring ----------------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      return;
    }
    input.value = "";
    send({ text: text }, text, false);
    input.focus();
  });

  humanButton.addEventListener("click", function () {
    if (humanButton.disabled) {
      return;
    }
    humanButton.disabled = true; // one hand-over, even if clicked twice before the answer
    send({ choice: "human" }, t("human"), true);
  });

  function toggleMenu(open) {
    menuItems.hidden = !open;
    menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      resetMenu();
    }
  }

  function resetMenu() {
    Array.prototype.forEach.call(menuItems.querySelectorAll(".confirm"), function (b) {
      menuItems.removeChild(b);
    });
    $("sb-new").hidden = false;
    $("sb-transcript").hidden = !config.mail;
  }

  menuButton.addEventListener("click", function () {
    toggleMenu(menuItems.hidden);
    if (!menuItems.hidden) {
      menuItems.querySelector("button:not([hidden])").focus();
    }
  });

  $("sb-transcript").addEventListener("click", function () {
    toggleMenu(false);
    if (!conv || !conv.email) {
      say(t("transcriptNeedsEmail"));
      return;
    }
    api("POST", convPath("/transcript/email"), {}).then(function (data) {
      say(t("transcriptSent", { email: data.sent_to }));
    }, function (err) {
      say(err.userMessage);
    });
  });

  // A conversation a person is handling is never dropped with one click: confirm first.
  $("sb-new").addEventListener("click", function () {
    if (!WAITING[status]) {
      toggleMenu(false);
      restart();
      return;
    }
    $("sb-new").hidden = true;
    var yes = el("button", "confirm danger", t("confirmNew"));
    var no = el("button", "confirm", t("keep"));
    yes.type = no.type = "button";
    yes.addEventListener("click", function () {
      toggleMenu(false);
      restart();
    });
    no.addEventListener("click", function () {
      toggleMenu(false);
      menuButton.focus();
    });
    menuItems.appendChild(no);
    menuItems.appendChild(yes);
    no.focus();
  });

  function close() {
    toHost({ type: "supportbot:close" });
  }
  closeButton.addEventListener("click", close);

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (!menuItems.hidden) {
        toggleMenu(false);
        menuButton.focus();
      } else {
        close();
      }
    } else if (event.key === "Tab" && modal) {
      trapTab(event);
    }
  });

  // Full screen on a phone the panel is a modal dialog: Tab cycles inside it.
  function trapTab(event) {
    var all = Array.prototype.filter.call(
      document.querySelectorAll("button, input, summary, [tabindex='0']"),
      function (node) {
        return !node.disabled && node.offsetParent !== null;
      }
    );
    if (!all.length) {
      return;
    }
    var first = all[0];
    var last = all[all.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  window.addEventListener("resize", markOverflow);

  var booted = false;
  function boot(saved) {
    if (booted) {
      return;
    }
    booted = true;
    if (saved) {
      resume(saved);
    } else {
      start();
    }
  }

  window.addEventListener("message", function (event) {
    // Only the page that embeds us, at the origin the loader said it has.
    if (!hostOrigin || event.origin !== hostOrigin || event.source !== window.parent) {
      return;
    }
    var data = event.data || {};
    if (data.type === "supportbot:init") {
      modal = !!data.modal;
      panelOpen = !!data.open;
      // The host page's copy wins: this frame's own storage is blocked or partitioned on most sites.
      boot(validConv(data.conversation) || loadOwn());
    } else if (data.type === "supportbot:open") {
      panelOpen = true;
      modal = !!data.modal;
      wantFocus = !conv;
      focusFirst();
      markOverflow();
    } else if (data.type === "supportbot:closed") {
      panelOpen = false;
    }
  });

  fetch("/widget/config.json", { cache: "no-store", credentials: "omit" })
    .then(function (res) {
      return res.ok ? res.json() : {};
    })
    .then(function (data) {
      config.mail = !!(data && data.mail);
      config.hours = data && data.hours && typeof data.hours.next_open === "string" ? data.hours : null;
    }, function () {
      /* no e-mail features then */
    })
    .then(function () {
      resetMenu();
      var ticket = params.get("resume");
      if (ticket) {
        booted = true;
        redeem(ticket);
      } else if (embedded && hostOrigin) {
        toHost({ type: "supportbot:ready" });
        // An old loader that never answers: carry on with what this frame can keep itself.
        window.setTimeout(function () {
          boot(loadOwn());
        }, 3000);
      } else {
        boot(loadOwn());
      }
    });
})();
