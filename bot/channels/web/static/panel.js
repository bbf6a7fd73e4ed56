/*
 * supportbot chat panel (runs inside the widget's iframe, same origin as the API).
 * Every string from the customer, the bot, an agent, DNS or SMTP goes through textContent.
 */
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.hash.slice(1));
  var flow = params.get("flow") || "";
  var title = params.get("title") || "Support chat";
  var color = params.get("color") || "";
  var hostOrigin = "";
  try {
    hostOrigin = new URL(params.get("host") || "").origin;
  } catch (e) {
    hostOrigin = "";
  }
  var embedded = window.parent !== window;
  var storeKey = "supportbot:conversation:" + (flow || "default");
  var FINAL = { resolved: 1, unresolved: 1, escalated: 1 };
  var ICONS = { pass: "\u2713", warn: "!", fail: "\u2717", unknown: "?", skipped: "\u2013" };
  var WORDS = { pass: "Passed", warn: "Warning", fail: "Failed", unknown: "Unknown", skipped: "Skipped" };

  var log = document.getElementById("sb-log");
  var statusLine = document.getElementById("sb-status");
  var choicesBox = document.getElementById("sb-choices");
  var form = document.getElementById("sb-form");
  var input = document.getElementById("sb-input");
  var sendButton = document.getElementById("sb-send");
  var humanButton = document.getElementById("sb-human");
  var closeButton = document.getElementById("sb-close");

  var conv = null; // {id, token}
  var rendered = 0; // transcript messages already on screen
  var status = "active";
  var chain = Promise.resolve();
  var streamAbort = null;
  var shownAwaiting = "";
  var wantFocus = false; // the launcher opened us: focus the first answer once it is there

  document.getElementById("sb-title").textContent = title;
  document.title = title;
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
      say(err && err.userMessage ? err.userMessage : "Sorry, something went wrong. Please try again.");
    });
    return chain;
  }

  function saveConv() {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(conv));
    } catch (e) {
      /* storage blocked: the conversation just won't survive a reload */
    }
  }

  function loadConv() {
    try {
      var raw = window.localStorage.getItem(storeKey);
      var data = raw ? JSON.parse(raw) : null;
      if (data && typeof data.id === "string" && typeof data.token === "string") {
        return data;
      }
    } catch (e) {
      /* ignore */
    }
    return null;
  }

  function forgetConv() {
    try {
      window.localStorage.removeItem(storeKey);
    } catch (e) {
      /* ignore */
    }
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
          var wait = res.headers.get("Retry-After");
          if (res.status === 429) {
            err.userMessage = "You're going a little fast. Please try again in " + (wait || "a few") + " seconds.";
          } else {
            err.userMessage = (data && data.message) || "Sorry, something went wrong. Please try again.";
          }
          throw err;
        }
        return data;
      });
    });
  }

  // --- rendering -------------------------------------------------------------------------------

  function renderMessage(message) {
    if (message.type === "probe" && message.probe) {
      renderProbe(message.probe, message.text);
      return;
    }
    var role = message.role === "user" || message.role === "agent" ? message.role : "bot";
    var box = el("div", "msg " + role + (message.type === "handoff" ? " handoff" : ""));
    var who = { bot: "Support bot", agent: "Support agent", user: "You" }[role];
    box.appendChild(el("span", role === "agent" ? "who" : "who visually-hidden", who + ":"));
    box.appendChild(document.createTextNode(message.text || ""));
    log.appendChild(box);
    if (role === "agent" && embedded && document.hidden !== false && hostOrigin) {
      window.parent.postMessage({ type: "supportbot:unread" }, hostOrigin);
    }
  }

  function renderProbe(probe, fallback) {
    var list = log.lastElementChild;
    if (!list || list.tagName !== "UL" || !list.classList.contains("checklist")) {
      list = el("ul", "checklist");
      list.setAttribute("aria-label", "Checks I ran");
      log.appendChild(list);
    }
    var state = ICONS[probe.status] ? probe.status : "unknown";
    var item = el("li", state);
    var mark = el("span", "mark", ICONS[state]);
    mark.setAttribute("aria-hidden", "true");
    item.appendChild(mark);
    var text = el("span", "text");
    text.appendChild(el("span", "visually-hidden", WORDS[state] + ": "));
    text.appendChild(document.createTextNode(probe.summary || fallback || ""));
    item.appendChild(text);
    if (probe.details && typeof probe.details === "object" && Object.keys(probe.details).length) {
      var details = el("details");
      details.appendChild(el("summary", "", "Details"));
      details.appendChild(el("pre", "", JSON.stringify(probe.details, null, 2)));
      item.appendChild(details);
    }
    list.appendChild(item);
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function renderAwaiting(turn, focusChoice) {
    var key = JSON.stringify([turn.status, turn.awaiting]);
    if (key === shownAwaiting) {
      // Unchanged (e.g. a sync after an event): keep the buttons, and the focus on them.
      if (focusChoice) {
        focusFirst();
      }
      return;
    }
    shownAwaiting = key;
    var hadFocus = choicesBox.contains(document.activeElement);
    status = turn.status || status;
    while (choicesBox.firstChild) {
      choicesBox.removeChild(choicesBox.firstChild);
    }
    var awaiting = turn.awaiting;
    if (awaiting && awaiting.kind === "choice") {
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
      ? "Type your answer, e.g. " + awaiting.hint
      : "Type your answer";
    if (FINAL[status] && !awaiting) {
      var again = el("button", "", "Start a new conversation");
      again.type = "button";
      again.addEventListener("click", restart);
      choicesBox.appendChild(again);
    }
    if (status === "with_agent") {
      say("You're chatting with a person from our support team.");
    } else if (status === "escalated") {
      say("A person from our support team will reply here.");
    }
    if (focusChoice || hadFocus) {
      focusFirst();
    }
  }

  function focusFirst() {
    var first = choicesBox.querySelector("button:not([disabled])");
    (first || input).focus();
  }

  function renderTurn(turn, focusChoice) {
    (turn.messages || []).forEach(renderMessage);
    renderAwaiting(turn, focusChoice || wantFocus);
    wantFocus = false;
    scrollDown();
  }

  function busy(on) {
    sendButton.disabled = on;
    humanButton.disabled = on;
    Array.prototype.forEach.call(choicesBox.querySelectorAll("button"), function (b) {
      b.disabled = on;
    });
    if (on) {
      say("…");
    }
  }

  // --- conversation ----------------------------------------------------------------------------

  function start() {
    return enqueue(function () {
      conv = null;
      busy(true);
      return api("POST", "/api/conversations", flow ? { flow: flow } : {}).then(function (turn) {
        conv = { id: turn.conversation, token: turn.token };
        saveConv();
        rendered = 0;
        busy(false);
        say("");
        rendered += (turn.messages || []).length;
        renderTurn(turn, false);
        listen();
      }, function (err) {
        busy(false);
        throw err;
      });
    });
  }

  function resume(saved) {
    return enqueue(function () {
      conv = saved;
      return api("GET", "/api/conversations/" + encodeURIComponent(conv.id)).then(function (turn) {
        rendered = (turn.messages || []).length;
        renderTurn(turn, false);
        say("");
        listen();
      }, function (err) {
        if (err.status === 401 || err.status === 404) {
          forgetConv();
          conv = null;
          return start();
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
    start().then(function () {
      var first = choicesBox.querySelector("button");
      (first || input).focus();
    });
  }

  function send(incoming, shown, fromButton) {
    if (!conv) {
      return;
    }
    enqueue(function () {
      var mine = el("div", "msg user");
      mine.appendChild(el("span", "who visually-hidden", "You:"));
      mine.appendChild(document.createTextNode(shown));
      log.appendChild(mine);
      scrollDown();
      busy(true);
      return api("POST", "/api/conversations/" + encodeURIComponent(conv.id) + "/messages", incoming).then(
        function (turn) {
          busy(false);
          say("");
          rendered += 1 + (turn.messages || []).length;
          renderTurn(turn, fromButton);
        },
        function (err) {
          busy(false);
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
      return api("GET", "/api/conversations/" + encodeURIComponent(conv.id)).then(function (turn) {
        var messages = turn.messages || [];
        messages.slice(rendered).forEach(renderMessage);
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
      var event;
      try {
        event = JSON.parse(data);
      } catch (e) {
        return;
      }
      if (event.type === "probe" && event.probe) {
        say("Checked: " + (event.probe.summary || event.probe.id || ""));
      } else if (event.type === "message" || event.type === "status") {
        var fromOthers = !event.message || event.message.role !== "user";
        if (fromOthers) {
          sync();
        }
      }
    }

    function connect() {
      if (controller.signal.aborted || conv !== me) {
        return;
      }
      fetch("/api/conversations/" + encodeURIComponent(me.id) + "/events", {
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
        // Catch up on anything sent while we were not connected.
        sync();
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
    if (!text || sendButton.disabled) {
      return;
    }
    input.value = "";
    send({ text: text }, text, false);
    input.focus();
  });

  humanButton.addEventListener("click", function () {
    send({ choice: "human" }, "Talk to a human", true);
  });

  function close() {
    if (embedded && hostOrigin) {
      window.parent.postMessage({ type: "supportbot:close" }, hostOrigin);
    }
  }
  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      close();
    }
  });

  window.addEventListener("message", function (event) {
    if (!hostOrigin || event.origin !== hostOrigin || event.source !== window.parent) {
      return;
    }
    if (event.data && event.data.type === "supportbot:open") {
      wantFocus = !conv;
      focusFirst();
    }
  });

  var saved = loadConv();
  if (saved) {
    resume(saved);
  } else {
    start();
  }
})();
