/*
 * supportbot widget: one <script src="https://BOT/widget.js" data-flow="cant-send-email" async>
 * adds a launcher button (in a shadow root, so the host page's CSS can't reach it) that opens the
 * chat panel in an iframe served by the bot. No framework, no build step, no innerHTML.
 * Attributes: data-flow, data-title, data-color (#rgb or #rrggbb), data-position
 * (bottom-right | bottom-left).
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
  var panelId = "supportbot-panel";

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
    var icon = chatIcon();
    var label = el("span", { "class": "sb-label" }, title);
    var badge = el("span", { "class": "sb-badge", hidden: "" }, "New");
    launcher.appendChild(icon);
    launcher.appendChild(label);
    launcher.appendChild(badge);

    var frame = null;
    var open = false;
    var loaded = false;

    function panelUrl() {
      var params = new URLSearchParams();
      if (flow) {
        params.set("flow", flow);
      }
      params.set("title", title);
      params.set("color", color);
      params.set("host", window.location.origin);
      return botOrigin + "/widget/panel.html#" + params.toString();
    }

    function send(message) {
      if (frame && frame.contentWindow) {
        frame.contentWindow.postMessage(message, botOrigin);
      }
    }

    function show() {
      if (!frame) {
        frame = el("iframe", {
          id: panelId,
          "class": "sb-frame",
          title: title + " chat",
          src: panelUrl(),
          allow: "clipboard-write"
        });
        frame.addEventListener("load", function () {
          loaded = true;
          if (open) {
            focusPanel();
          }
        });
        wrap.insertBefore(frame, launcher);
      }
      frame.hidden = false;
      open = true;
      wrap.classList.add("sb-open");
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", "Close chat: " + title);
      badge.hidden = true;
      if (loaded) {
        focusPanel();
      }
    }

    // Move keyboard focus into the panel (only possible once it has loaded) and let it pick the
    // element: the first answer button, or the text box.
    function focusPanel() {
      frame.focus();
      if (frame.contentWindow) {
        frame.contentWindow.focus();
      }
      send({ type: "supportbot:open" });
    }

    function hide(returnFocus) {
      if (frame) {
        frame.hidden = true;
      }
      open = false;
      wrap.classList.remove("sb-open");
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-label", "Open chat: " + title);
      if (returnFocus) {
        launcher.focus();
      }
    }

    launcher.addEventListener("click", function () {
      if (open) {
        hide(false);
      } else {
        show();
      }
    });

    window.addEventListener("message", function (event) {
      if (event.origin !== botOrigin || !frame || event.source !== frame.contentWindow) {
        return;
      }
      var data = event.data || {};
      if (data.type === "supportbot:close") {
        hide(true);
      } else if (data.type === "supportbot:unread" && !open) {
        badge.hidden = false;
      }
    });

    wrap.appendChild(launcher);
    root.appendChild(css);
    root.appendChild(wrap);
    document.body.appendChild(host);

    // A conversation already in progress (token kept by the panel) reopens after a reload.
    try {
      if (window.sessionStorage.getItem("supportbot:open:" + botOrigin) === "1") {
        show();
      }
    } catch (e) {
      /* storage may be blocked; the launcher still works */
    }
    launcher.addEventListener("click", function () {
      try {
        window.sessionStorage.setItem("supportbot:open:" + botOrigin, open ? "1" : "0");
      } catch (e) {
        /* ignore */
      }
    });
    window.addEventListener("message", function (event) {
      if (event.origin === botOrigin && event.data && event.data.type === "supportbot:close") {
        try {
          window.sessionStorage.setItem("supportbot:open:" + botOrigin, "0");
        } catch (e) {
          /* ignore */
        }
      }
    });
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
