/*
 * supportbot widget: one <script src="https://BOT/widget.js" data-flow="cant-send-email" async>
 * adds a launcher button (in a shadow root, so the host page's CSS can't reach it) that opens the
 * chat panel in an iframe served by the bot. No framework, no build step, no innerHTML.
 * Attributes: data-flow, data-title, data-color (#rgb or #rrggbb), data-position
 * (bottom-right | bottom-left), data-lang (else the page's lang, else the browser's),
 * data-launcher="none" (the site opens the chat from its own button with window.Supportbot.open()).
 * JS API: window.Supportbot.open(), .close(), .hide(), .show(), .on(event, fn) with the events
 * "open", "close", "unread" ({count}) and "ready".
 *
 * The conversation's id and token are kept here, in the host page's own storage, and handed to
 * the panel by postMessage: the panel's own storage is third-party and blocked or partitioned on
 * most sites (see SECURITY.md, "Where the widget keeps its token").
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    var found = document.querySelectorAll("script[src*='widget.js']");
    script = found.length ? found[found.length - 1] : null;
  }
  if (!script || script.getAttribute("data-supportbot-loaded")) {
    return;
  }
  script.setAttribute("data-supportbot-loaded", "1");

  var botOrigin = new URL(script.src, document.baseURI).origin;
  var flow = script.getAttribute("data-flow") || "";
  var title = script.getAttribute("data-title") || "Help with email";
  var color = script.getAttribute("data-color") || "#1f5fbf";
  if (!/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(color)) {
    color = "#1f5fbf";
  }
  var position = script.getAttribute("data-position") === "bottom-left" ? "left" : "right";
  var ownLauncher = script.getAttribute("data-launcher") !== "none";
  var lang = script.getAttribute("data-lang") || document.documentElement.lang || "";
  var panelId = "supportbot-panel";
  var convKey = "supportbot:conversation:" + botOrigin + ":" + (flow || "default");
  var openKey = "supportbot:open:" + botOrigin;
  var ID = /^[A-Za-z0-9_-]{1,100}$/;
  var listeners = {};
  var queued = []; // API calls made before the launcher exists

  function emit(name, detail) {
    (listeners[name] || []).forEach(function (fn) {
      try {
        fn(detail || {});
      } catch (e) {
        /* a site's handler must not break the widget */
      }
    });
  }

  var api = {
    open: function () { queued.push("open"); },
    close: function () { queued.push("close"); },
    hide: function () { queued.push("hide"); },
    show: function () { queued.push("show"); },
    on: function (name, fn) {
      if (typeof fn === "function") {
        (listeners[name] = listeners[name] || []).push(fn);
      }
    }
  };
  window.Supportbot = api;

  // The host page's first-party storage: the one place a cross-site embed can keep anything.
  var store = {
    get: function (key, session) {
      try {
        return (session ? window.sessionStorage : window.localStorage).getItem(key);
      } catch (e) {
        return null;
      }
    },
    set: function (key, value, session) {
      try {
        (session ? window.sessionStorage : window.localStorage).setItem(key, value);
      } catch (e) {
        /* storage off: the conversation lasts as long as the page */
      }
    },
    remove: function (key) {
      try {
        window.localStorage.removeItem(key);
      } catch (e) {
        /* ignore */
      }
    }
  };

  function savedConversation() {
    try {
      var data = JSON.parse(store.get(convKey) || "null");
      return data && typeof data.id === "string" && ID.test(data.id) && typeof data.token === "string" ? data : null;
    } catch (e) {
      return null;
    }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  // A speech bubble drawn with DOM calls (no markup strings, no icon font needed).
  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function phone() {
    return window.matchMedia("(max-width: 480px), (max-height: 480px)").matches;
  }

  function mount() {
    var host = el("div", { "data-supportbot": "", "class": "supportbot-host" });
    // Hidden until our stylesheet has loaded, so the launcher never flashes unstyled.
    host.style.setProperty("visibility", "hidden");
    host.style.setProperty("--sb-color", color);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

    var css = el("link", { rel: "stylesheet", href: botOrigin + "/widget/widget.css" });
    css.addEventListener("load", function () {
      host.style.removeProperty("visibility");
    });
    css.addEventListener("error", function () {
      host.style.removeProperty("visibility");
    });

    var wrap = el("div", { "class": "sb-wrap sb-" + position });
    var launcher = el("button", {
      type: "button",
      "class": "sb-launcher",
      "aria-expanded": "false",
      "aria-controls": panelId,
      "aria-label": "Open chat: " + title
    });
    var badge = el("span", { "class": "sb-badge", hidden: "", "aria-hidden": "true" }, "");
    launcher.appendChild(chatIcon());
    launcher.appendChild(el("span", { "class": "sb-label" }, title));
    launcher.appendChild(badge);
    if (!ownLauncher) {
      launcher.hidden = true;
    }

    var frame = null;
    var open = false;
    var loaded = false;
    var unread = 0;
    var madeInert = [];

    function panelUrl() {
      var params = new URLSearchParams();
      if (flow) {
        params.set("flow", flow);
      }
      params.set("title", title);
      params.set("color", color);
      params.set("host", window.location.origin);
      if (lang) {
        params.set("lang", lang);
      }
      return botOrigin + "/widget/panel.html#" + params.toString();
    }

    function send(message) {
      if (frame && frame.contentWindow) {
        frame.contentWindow.postMessage(message, botOrigin);
      }
    }

    function label() {
      var text = (open ? "Close chat: " : "Open chat: ") + title;
      if (!open && unread) {
        text += " (" + unread + (unread === 1 ? " new message)" : " new messages)");
      }
      launcher.setAttribute("aria-label", text);
    }

    function makeFrame(visible) {
      if (frame) {
        return;
      }
      frame = el("iframe", {
        id: panelId,
        "class": "sb-frame",
        title: title + " chat",
        src: panelUrl(),
        allow: "clipboard-write"
      });
      frame.hidden = !visible;
      frame.addEventListener("load", function () {
        loaded = true;
      });
      wrap.insertBefore(frame, launcher);
    }

    // On a phone the panel covers the page: everything else is inert, so neither Tab nor a
    // screen reader's cursor can wander behind it.
    function setModal(on) {
      madeInert.forEach(function (node) {
        node.removeAttribute("inert");
      });
      madeInert = [];
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-modal");
      if (!on) {
        return;
      }
      wrap.setAttribute("role", "dialog");
      wrap.setAttribute("aria-modal", "true");
      wrap.setAttribute("aria-label", title);
      Array.prototype.forEach.call(document.body.children, function (node) {
        if (node !== host && !node.hasAttribute("inert")) {
          node.setAttribute("inert", "");
          madeInert.push(node);
        }
      });
    }

    function show() {
      makeFrame(true);
      frame.hidden = false;
      open = true;
      unread = 0;
      badge.hidden = true;
      wrap.classList.add("sb-open");
      launcher.setAttribute("aria-expanded", "true");
      label();
      setModal(phone());
      store.set(openKey, "1", true);
      if (loaded) {
        frame.focus();
      }
      send({ type: "supportbot:open", modal: phone() });
      emit("open");
    }

    function hide(returnFocus) {
      if (frame) {
        frame.hidden = true;
      }
      open = false;
      wrap.classList.remove("sb-open");
      launcher.setAttribute("aria-expanded", "false");
      label();
      setModal(false);
      store.set(openKey, "0", true);
      send({ type: "supportbot:closed" });
      if (returnFocus && !launcher.hidden) {
        launcher.focus();
      }
      emit("close");
    }

    launcher.addEventListener("click", function () {
      if (open) {
        hide(false);
      } else {
        show();
      }
    });

    window.addEventListener("message", function (event) {
      // Only our own panel: the bot's origin, and the very frame we made.
      if (event.origin !== botOrigin || !frame || event.source !== frame.contentWindow) {
        return;
      }
      var data = event.data || {};
      if (data.type === "supportbot:ready") {
        send({
          type: "supportbot:init",
          conversation: savedConversation(),
          open: open,
          modal: open && phone()
        });
        if (open) {
          frame.focus();
          send({ type: "supportbot:open", modal: phone() });
        }
        emit("ready");
      } else if (data.type === "supportbot:store") {
        var conv = data.conversation;
        if (conv && typeof conv.id === "string" && ID.test(conv.id) && typeof conv.token === "string" &&
            conv.token.length <= 512) {
          store.set(convKey, JSON.stringify(conv));
        }
      } else if (data.type === "supportbot:forget") {
        store.remove(convKey);
      } else if (data.type === "supportbot:close") {
        hide(true);
      } else if (data.type === "supportbot:unread" && !open) {
        unread += 1;
        badge.textContent = String(unread);
        badge.hidden = false;
        label();
        emit("unread", { count: unread });
      }
    });

    window.addEventListener("resize", function () {
      if (open) {
        setModal(phone());
      }
    });

    wrap.appendChild(launcher);
    root.appendChild(css);
    root.appendChild(wrap);
    document.body.appendChild(host);

    api.open = show;
    api.close = function () {
      hide(false);
    };
    api.hide = function () {
      hide(false);
      launcher.hidden = true;
    };
    api.show = function () {
      launcher.hidden = false;
    };
    queued.forEach(function (name) {
      api[name]();
    });
    queued = [];

    if (store.get(openKey, true) === "1") {
      show();
    } else if (savedConversation()) {
      // A conversation in progress: load the panel hidden, so an agent's reply reaches the badge.
      makeFrame(false);
    }
  }

  // Ask the bot whether this page may embed it before showing anything: a site missing from
  // SUPPORTBOT_WIDGET_ORIGINS gets a console message for its developers, and no broken launcher.
  function checkThenMount() {
    fetch(botOrigin + "/widget/config.json", { credentials: "omit", cache: "no-store" })
      .then(function (res) {
        return res.json();
      })
      .then(function (config) {
        if (config && config.allowed) {
          mount();
        } else {
          console.error((config && config.message) ||
            "supportbot: this page's origin may not embed the widget; add it to SUPPORTBOT_WIDGET_ORIGINS.");
        }
      }, function () {
        console.error("supportbot: could not reach " + botOrigin + "/widget/config.json; the chat is not shown.");
      });
  }

  if (document.body) {
    checkThenMount();
  } else {
    document.addEventListener("DOMContentLoaded", checkThenMount);
  }
})();
