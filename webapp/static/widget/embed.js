/*!
 * One-line embed loader for the 知识产权政策助手 chat widget.
 *
 *   <script src="http://HOST:8080/widget/embed.js" data-socket-url="http://HOST:5005" defer></script>
 *
 * Everything is loaded from the origin that served this file:
 *   /widget/widget.css, /vendor/socket.io/socket.io.min.js (socket.io-client 4), /widget/widget.js
 *
 * Optional attributes on the <script> tag:
 *   data-socket-url      Rasa server (socketio channel); default: the origin that served embed.js
 *   data-socket-path     socket.io path; default "/socket.io/"
 *   data-title           panel title; default "知识产权政策助手"
 *   data-open            "true" opens the panel on load
 *   data-storage-prefix  localStorage key prefix; default "ipw"
 *   data-transports      e.g. "polling,websocket"; default "websocket,polling"
 */
(function (global) {
  "use strict";

  var doc = global.document;
  if (global.__ipwEmbedLoaded) return;
  global.__ipwEmbedLoaded = true;

  function findScript() {
    if (doc.currentScript && doc.currentScript.src) return doc.currentScript;
    var scripts = doc.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i -= 1) {
      if (/\/widget\/embed(\.min)?\.js(\?|#|$)/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }

  var script = findScript();
  if (!script) {
    if (global.console) global.console.error("[ipw] embed.js: cannot find its own <script> tag");
    return;
  }

  var scriptUrl = new URL(script.src, global.location.href);
  var origin = scriptUrl.origin;
  var widgetBase = new URL("./", scriptUrl).href; // .../widget/
  var data = script.dataset || {};

  function list(value, fallback) {
    if (!value) return fallback;
    var items = value.split(/[\s,]+/).filter(Boolean);
    return items.length ? items : fallback;
  }

  var options = {
    socketUrl: data.socketUrl || origin,
    socketPath: data.socketPath || "/socket.io/",
    open: data.open === "true",
    transports: list(data.transports, ["websocket", "polling"])
  };
  if (data.title) options.title = data.title;
  if (data.storagePrefix) options.storagePrefix = data.storagePrefix;

  function loadCss(href) {
    if (doc.querySelector('link[data-ipw-css]')) return;
    var link = doc.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.setAttribute("data-ipw-css", "");
    (doc.head || doc.documentElement).appendChild(link);
  }

  function loadScript(src, done) {
    var s = doc.createElement("script");
    s.src = src;
    s.async = false;
    s.addEventListener("load", function () {
      done(null);
    });
    s.addEventListener("error", function () {
      done(new Error("failed to load " + src));
    });
    (doc.head || doc.documentElement).appendChild(s);
  }

  /**
   * Load socket.io-client without clobbering a host page's own `io` global, and without
   * handing it to an AMD loader (the UMD bundle prefers `define` when present).
   */
  function loadSocketIo(done) {
    var previousIo = global.io;
    var previousDefine = global.define;
    var hideDefine = typeof previousDefine === "function" && previousDefine.amd;
    if (hideDefine) global.define = undefined;
    loadScript(origin + "/vendor/socket.io/socket.io.min.js", function (err) {
      var ours = global.io;
      if (hideDefine) global.define = previousDefine;
      if (previousIo !== undefined && previousIo !== ours) global.io = previousIo;
      done(err, ours);
    });
  }

  function start() {
    loadCss(widgetBase + "widget.css");
    loadSocketIo(function (err, io) {
      if (err || typeof io !== "function") {
        if (global.console) global.console.error("[ipw] socket.io-client could not be loaded", err);
      }
      options.io = io;
      loadScript(widgetBase + "widget.js", function (err2) {
        if (err2 || !global.IPPolicyWidget) {
          if (global.console) global.console.error("[ipw] widget.js could not be loaded", err2);
          return;
        }
        global.IPPolicyWidget.mount(options);
      });
    });
  }

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else start();
})(window);
