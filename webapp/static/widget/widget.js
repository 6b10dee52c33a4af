/*!
 * 知识产权政策助手 — web chat widget for the Rasa socketio channel.
 *
 * Loaded by embed.js (which injects widget.css and socket.io-client 4 first) and mounted with
 * IPPolicyWidget.mount(options). Plain ES2017, no framework, no eval, no inline handlers, no
 * inline styles, so it runs under a strict Content-Security-Policy.
 *
 * Protocol (rasa/core/channels/socketio.py):
 *   client -> server  session_request {session_id}        (on every (re)connect)
 *   server -> client  session_confirm "<session_id>"
 *   client -> server  user_uttered {message, session_id}
 *   server -> client  bot_uttered {text?, quick_replies?|buttons?, attachment?, custom-ish payload}
 */
(function (global) {
  "use strict";

  var doc = global.document;

  var DEFAULTS = {
    socketUrl: null, // null = origin of embed.js / the page
    socketPath: "/socket.io/",
    title: "知识产权政策助手",
    subtitle: "上海 · 大同 · 国家知识产权局政策问答",
    placeholder: "请输入您的问题，例如：专利质押贷款有贴息吗？",
    storagePrefix: "ipw",
    open: false,
    typingTimeoutMs: 20000,
    maxHistory: 80,
    maxInputLength: 500,
    transports: ["websocket", "polling"],
    suggestions: [
      "专利质押贷款有贴息吗？",
      "上海对中小企业专利申请有什么资助？",
      "企业在海外遇到知识产权纠纷怎么办？",
      "什么是专利开放许可？"
    ],
    io: null // the socket.io `io` function; defaults to window.io
  };

  var TEXT = {
    launcherOpen: "打开知识产权政策助手",
    launcherLabel: "政策咨询",
    close: "关闭对话窗口",
    reset: "开始新对话",
    resetConfirm: "确定要清空当前对话并开始新对话吗？",
    send: "发送消息",
    inputLabel: "输入您的问题",
    log: "对话记录",
    typing: "助手正在输入…",
    connecting: "正在连接…",
    reconnecting: "连接中断，正在重连…",
    connectError: "暂时无法连接到服务器，正在重试…",
    welcome:
      "您好！我是知识产权政策助手，可以为中小企业解答上海、大同及国家层面的知识产权政策问题，" +
      "例如专利质押融资、资助奖励、海外布局与维权、专利开放许可等。每条回答都会注明政策出处。",
    suggestionsLabel: "您可以这样问：",
    cardsHeading: "相关政策条款",
    agencies: "负责部门",
    agenciesInferred: "负责部门（推断）",
    platforms: "办理平台",
    citation: "出处",
    showText: "查看原文",
    hideText: "收起原文",
    moreCards: "显示其余 {n} 条",
    feedbackQuestion: "这个回答对您有帮助吗？",
    helpful: "有用",
    unhelpful: "没用",
    feedbackGroup: "回答反馈",
    feedbackThanks: "感谢反馈",
    disclaimer: "回答依据政策原文整理，仅供参考，具体以主管部门解释为准。",
    you: "您",
    bot: "助手",
    image: "图片"
  };

  var FEEDBACK_PAYLOAD = { helpful: "/feedback_helpful", unhelpful: "/feedback_unhelpful" };
  var COMPACT_CARDS = 3;

  // ---------------------------------------------------------------- small helpers

  function el(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function attrs(node, map) {
    Object.keys(map).forEach(function (key) {
      node.setAttribute(key, map[key]);
    });
    return node;
  }

  function button(className, label, ariaLabel) {
    var b = el("button", className, label);
    b.type = "button";
    if (ariaLabel) b.setAttribute("aria-label", ariaLabel);
    return b;
  }

  var idCounter = 0;
  function uid(prefix) {
    idCounter += 1;
    return prefix + "-" + idCounter + "-" + Math.random().toString(36).slice(2, 8);
  }

  function safeHref(url) {
    if (typeof url !== "string") return null;
    try {
      var parsed = new URL(url, global.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  var URL_RE = /(https?:\/\/[^\s<>"'，。；、）)]+)/g;

  /** Append text to `parent` as DOM text: **bold** becomes <strong>, http(s) URLs become links. */
  function appendRichText(parent, text) {
    String(text).split(/(\*\*[^*\n]+\*\*)/g).forEach(function (part) {
      if (!part) return;
      if (/^\*\*[^*\n]+\*\*$/.test(part)) {
        parent.appendChild(el("strong", null, part.slice(2, -2)));
        return;
      }
      var last = 0;
      part.replace(URL_RE, function (match, _url, offset) {
        if (offset > last) parent.appendChild(doc.createTextNode(part.slice(last, offset)));
        var href = safeHref(match);
        if (href) {
          var a = el("a", "ipw-link", match);
          attrs(a, { href: href, target: "_blank", rel: "noopener noreferrer" });
          parent.appendChild(a);
        } else {
          parent.appendChild(doc.createTextNode(match));
        }
        last = offset + match.length;
        return match;
      });
      if (last < part.length) parent.appendChild(doc.createTextNode(part.slice(last)));
    });
  }

  function names(list) {
    if (!Array.isArray(list)) return [];
    return list
      .map(function (item) {
        if (item === null || item === undefined) return "";
        if (typeof item === "string") return item;
        return item.name || item.as_written || item.title || item.id || "";
      })
      .filter(function (s) {
        return !!s;
      });
  }

  function normaliseButtons(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter(function (b) {
        return b && (b.title || b.payload);
      })
      .map(function (b) {
        return { title: String(b.title || b.payload), payload: String(b.payload || b.title) };
      });
  }

  /** Find a kb_answer payload in the shapes Rasa can deliver a custom message in. */
  function extractCustom(msg) {
    var candidates = [msg, msg && msg.custom, msg && msg.data, msg && msg.custom && msg.custom.data];
    for (var i = 0; i < candidates.length; i += 1) {
      var c = candidates[i];
      if (c && typeof c === "object" && c.type === "kb_answer" && Array.isArray(c.measures)) return c;
    }
    return null;
  }

  // ---------------------------------------------------------------- storage

  function Store(prefix) {
    this.prefix = prefix;
    try {
      var probe = prefix + ":probe";
      global.localStorage.setItem(probe, "1");
      global.localStorage.removeItem(probe);
      this.local = global.localStorage;
    } catch (e) {
      this.local = null; // private mode / disabled storage: the widget still works, without memory
    }
    try {
      this.session = global.sessionStorage;
    } catch (e2) {
      this.session = null;
    }
  }
  Store.prototype.sessionIdKey = function () {
    return this.prefix + ":session_id";
  };
  Store.prototype.historyKey = function (sessionId) {
    return this.prefix + ":history:" + sessionId;
  };
  Store.prototype.getSessionId = function () {
    return this.local ? this.local.getItem(this.sessionIdKey()) : null;
  };
  Store.prototype.setSessionId = function (id) {
    if (this.local) this.local.setItem(this.sessionIdKey(), id);
  };
  Store.prototype.clearSession = function (id) {
    if (!this.local) return;
    this.local.removeItem(this.sessionIdKey());
    if (id) this.local.removeItem(this.historyKey(id));
  };
  Store.prototype.loadHistory = function (sessionId) {
    if (!this.local || !sessionId) return [];
    try {
      var parsed = JSON.parse(this.local.getItem(this.historyKey(sessionId)) || "[]");
      return Array.isArray(parsed) ? parsed : [];
    } catch (e) {
      return [];
    }
  };
  Store.prototype.saveHistory = function (sessionId, history, max) {
    if (!this.local || !sessionId) return;
    var items = history.slice(-max);
    while (items.length) {
      try {
        this.local.setItem(this.historyKey(sessionId), JSON.stringify(items));
        return;
      } catch (e) {
        items = items.slice(Math.ceil(items.length / 2)); // quota: keep the newer half
      }
    }
  };
  Store.prototype.getOpen = function () {
    return this.session ? this.session.getItem(this.prefix + ":open") === "1" : false;
  };
  Store.prototype.setOpen = function (open) {
    if (this.session) {
      try {
        this.session.setItem(this.prefix + ":open", open ? "1" : "0");
      } catch (e) {
        /* ignore */
      }
    }
  };

  // ---------------------------------------------------------------- widget

  function Widget(options) {
    this.opts = Object.assign({}, DEFAULTS, options || {});
    this.store = new Store(this.opts.storagePrefix);
    this.sessionId = this.store.getSessionId();
    this.confirmed = false;
    this.history = this.store.loadHistory(this.sessionId);
    this.outbox = [];
    this.typingTimer = null;
    this.unread = 0;
    this.socket = null;
    this.everConnected = false;
    this.build();
    this.restore();
    if (this.opts.open || this.store.getOpen()) this.open(false);
    this.connect();
  }

  Widget.prototype.build = function () {
    var self = this;
    var o = this.opts;
    var panelId = uid("ipw-panel");
    var titleId = uid("ipw-title");
    var inputId = uid("ipw-input");

    var root = el("div", "ipw-root");
    root.setAttribute("data-ipw-root", "");

    var launcher = button("ipw-launcher", null, TEXT.launcherOpen);
    attrs(launcher, { "aria-expanded": "false", "aria-controls": panelId });
    var icon = el("span", "ipw-launcher-icon");
    icon.setAttribute("aria-hidden", "true");
    launcher.appendChild(icon);
    launcher.appendChild(el("span", "ipw-launcher-text", TEXT.launcherLabel));
    var badge = el("span", "ipw-badge");
    badge.hidden = true;
    badge.setAttribute("aria-hidden", "true");
    launcher.appendChild(badge);

    var panel = el("section", "ipw-panel");
    attrs(panel, { id: panelId, role: "dialog", "aria-modal": "false", "aria-labelledby": titleId });
    panel.hidden = true;

    var header = el("header", "ipw-header");
    var heading = el("div", "ipw-heading");
    var title = el("h2", "ipw-title", o.title);
    title.id = titleId;
    heading.appendChild(title);
    heading.appendChild(el("p", "ipw-subtitle", o.subtitle));
    var resetBtn = button("ipw-icon-btn ipw-reset", "新对话", TEXT.reset);
    var closeBtn = button("ipw-icon-btn ipw-close", "×", TEXT.close);
    header.appendChild(heading);
    header.appendChild(resetBtn);
    header.appendChild(closeBtn);

    var status = el("div", "ipw-status");
    attrs(status, { role: "status", "aria-live": "polite" });
    status.hidden = true;

    var log = el("div", "ipw-messages");
    attrs(log, {
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": TEXT.log,
      tabindex: "0"
    });

    var typing = el("div", "ipw-typing");
    typing.setAttribute("aria-hidden", "true");
    typing.hidden = true;
    for (var i = 0; i < 3; i += 1) typing.appendChild(el("span", "ipw-dot"));
    typing.appendChild(el("span", "ipw-visually-hidden", TEXT.typing));

    var form = el("form", "ipw-form");
    form.setAttribute("novalidate", "");
    var label = el("label", "ipw-visually-hidden", TEXT.inputLabel);
    label.setAttribute("for", inputId);
    var input = el("textarea", "ipw-input");
    attrs(input, {
      id: inputId,
      rows: "1",
      placeholder: o.placeholder,
      "aria-label": TEXT.inputLabel,
      maxlength: String(o.maxInputLength),
      autocomplete: "off",
      enterkeyhint: "send"
    });
    var send = el("button", "ipw-send", "发送");
    send.type = "submit";
    send.setAttribute("aria-label", TEXT.send);
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    var disclaimer = el("p", "ipw-disclaimer", TEXT.disclaimer);

    panel.appendChild(header);
    panel.appendChild(status);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    panel.appendChild(disclaimer);
    root.appendChild(panel);
    root.appendChild(launcher);
    doc.body.appendChild(root);

    this.el = {
      root: root,
      launcher: launcher,
      badge: badge,
      panel: panel,
      status: status,
      log: log,
      typing: typing,
      form: form,
      input: input,
      send: send,
      reset: resetBtn,
      close: closeBtn
    };

    launcher.addEventListener("click", function () {
      if (panel.hidden) self.open(true);
      else self.close();
    });
    closeBtn.addEventListener("click", function () {
      self.close();
    });
    resetBtn.addEventListener("click", function () {
      if (global.confirm(TEXT.resetConfirm)) self.reset();
    });
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape" || e.key === "Esc") {
        e.preventDefault();
        self.close();
      } else if (e.key === "Tab" && self.isFullScreen()) {
        self.trapFocus(e);
      }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      self.submitInput();
    });
    input.addEventListener("keydown", function (e) {
      // Enter sends, Shift+Enter is a new line; never send while an IME (pinyin) is composing.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        self.submitInput();
      }
    });
    input.addEventListener("input", function () {
      self.autosize();
    });
  };

  /** On a phone the panel covers the page: keep Tab inside it (Esc or × leaves). */
  Widget.prototype.isFullScreen = function () {
    return !!(global.matchMedia && global.matchMedia("(max-width: 479.98px)").matches);
  };

  Widget.prototype.trapFocus = function (e) {
    var focusable = Array.prototype.filter.call(
      this.el.panel.querySelectorAll("button, textarea, a[href], [tabindex='0']"),
      function (node) {
        return !node.disabled && node.offsetParent !== null;
      }
    );
    if (!focusable.length) return;
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (e.shiftKey && doc.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && doc.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  Widget.prototype.autosize = function () {
    var input = this.el.input;
    var perLine = Math.max(8, Math.floor((input.clientWidth - 24) / 16)); // CJK characters per line
    var lines = input.value.split("\n").reduce(function (sum, line) {
      return sum + Math.max(1, Math.ceil(line.length / perLine));
    }, 0);
    input.classList.toggle("ipw-input--multiline", lines > 2);
  };

  Widget.prototype.open = function (focus) {
    this.el.panel.hidden = false;
    this.el.panel.setAttribute("aria-modal", this.isFullScreen() ? "true" : "false");
    this.el.root.classList.add("ipw-root--open");
    this.el.launcher.setAttribute("aria-expanded", "true");
    this.el.launcher.setAttribute("aria-label", TEXT.close);
    this.store.setOpen(true);
    this.unread = 0;
    this.updateBadge();
    this.scrollToEnd();
    if (focus) this.el.input.focus();
  };

  Widget.prototype.close = function () {
    if (this.el.panel.hidden) return;
    this.el.panel.hidden = true;
    this.el.root.classList.remove("ipw-root--open");
    this.el.launcher.setAttribute("aria-expanded", "false");
    this.el.launcher.setAttribute("aria-label", TEXT.launcherOpen);
    this.store.setOpen(false);
    this.el.launcher.focus();
  };

  Widget.prototype.isOpen = function () {
    return !this.el.panel.hidden;
  };

  Widget.prototype.updateBadge = function () {
    var b = this.el.badge;
    b.hidden = this.unread === 0;
    b.textContent = this.unread > 9 ? "9+" : String(this.unread);
  };

  Widget.prototype.setStatus = function (text) {
    var s = this.el.status;
    s.textContent = text || "";
    s.hidden = !text;
    this.el.root.classList.toggle("ipw-root--offline", !!text);
  };

  Widget.prototype.scrollToEnd = function () {
    var log = this.el.log;
    global.requestAnimationFrame(function () {
      log.scrollTop = log.scrollHeight;
    });
  };

  // ---------------------------------------------------------------- socket

  Widget.prototype.connect = function () {
    var self = this;
    var io = this.opts.io || global.io;
    if (typeof io !== "function") {
      this.setStatus(TEXT.connectError);
      if (global.console) global.console.error("[ipw] socket.io-client is not loaded");
      return;
    }
    var url = this.opts.socketUrl || global.location.origin;
    var socket = io(url, {
      path: this.opts.socketPath,
      transports: this.opts.transports,
      tryAllTransports: true,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 8000,
      timeout: 10000
    });
    this.socket = socket;
    this.setStatus(TEXT.connecting);

    socket.on("connect", function () {
      // A (re)connection gets a new socket id: join the session's room again.
      self.everConnected = true;
      self.confirmed = false;
      socket.emit("session_request", { session_id: self.sessionId });
    });

    socket.on("session_confirm", function (data) {
      var id = typeof data === "string" ? data : data && data.session_id;
      if (!id) return;
      if (self.sessionId && self.sessionId !== id) {
        // The server picked another id: move what we have to it.
        self.store.clearSession(self.sessionId);
      }
      self.sessionId = id;
      self.store.setSessionId(id);
      self.persist();
      self.confirmed = true;
      self.setStatus("");
      self.flushOutbox();
    });

    socket.on("bot_uttered", function (msg) {
      self.onBotMessage(msg);
    });

    socket.on("disconnect", function (reason) {
      self.confirmed = false;
      self.hideTyping();
      if (reason === "io client disconnect") return;
      self.setStatus(TEXT.reconnecting);
      if (reason === "io server disconnect") {
        // The server closed the socket on purpose: socket.io does not retry this one by itself.
        global.setTimeout(function () {
          if (!socket.connected) socket.connect();
        }, 1000);
      }
    });

    socket.on("connect_error", function () {
      self.setStatus(self.history.length || self.everConnected ? TEXT.reconnecting : TEXT.connectError);
    });

    socket.io.on("reconnect_attempt", function () {
      if (self.everConnected) self.setStatus(TEXT.reconnecting);
    });
  };

  Widget.prototype.flushOutbox = function () {
    while (this.outbox.length && this.confirmed && this.socket && this.socket.connected) {
      var message = this.outbox.shift();
      this.socket.emit("user_uttered", { message: message, session_id: this.sessionId });
    }
  };

  /** Send a message to Rasa; queued until the session is confirmed. */
  Widget.prototype.emitUser = function (message) {
    this.outbox.push(message);
    this.flushOutbox();
  };

  // ---------------------------------------------------------------- typing indicator

  Widget.prototype.showTyping = function () {
    var self = this;
    this.el.typing.hidden = false;
    global.clearTimeout(this.typingTimer);
    this.typingTimer = global.setTimeout(function () {
      self.hideTyping();
    }, this.opts.typingTimeoutMs);
    this.scrollToEnd();
  };

  Widget.prototype.hideTyping = function () {
    global.clearTimeout(this.typingTimer);
    this.el.typing.hidden = true;
  };

  // ---------------------------------------------------------------- sending

  Widget.prototype.submitInput = function () {
    var text = this.el.input.value.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    this.el.input.value = "";
    this.autosize();
    this.sendText(text, text);
  };

  /** Show `shown` as the user's bubble and send `payload` to the bot. */
  Widget.prototype.sendText = function (shown, payload) {
    this.add({ kind: "user", text: shown });
    this.emitUser(payload);
    this.showTyping();
  };

  // ---------------------------------------------------------------- receiving

  Widget.prototype.onBotMessage = function (msg) {
    if (!msg || typeof msg !== "object") return;
    this.hideTyping();
    var custom = extractCustom(msg);
    if (custom) {
      this.add({ kind: "kb", measures: custom.measures, feedback: null });
    } else {
      var buttons = normaliseButtons(msg.quick_replies || msg.buttons);
      var text = typeof msg.text === "string" ? msg.text : "";
      var att = msg.attachment;
      if (att && att.type === "image" && att.payload && safeHref(att.payload.src)) {
        this.add({ kind: "image", src: att.payload.src });
      }
      if (text || buttons.length) {
        this.add({ kind: "bot", text: text, buttons: buttons, used: false });
      }
    }
    if (!this.isOpen()) {
      this.unread += 1;
      this.updateBadge();
    }
  };

  // ---------------------------------------------------------------- history

  Widget.prototype.persist = function () {
    this.store.saveHistory(this.sessionId, this.history, this.opts.maxHistory);
  };

  Widget.prototype.add = function (item) {
    this.history.push(item);
    if (this.history.length > this.opts.maxHistory) this.history = this.history.slice(-this.opts.maxHistory);
    this.persist();
    this.render(item, false);
    this.scrollToEnd();
  };

  Widget.prototype.restore = function () {
    var log = this.el.log;
    while (log.firstChild) log.removeChild(log.firstChild);
    this.renderWelcome();
    var self = this;
    this.history.forEach(function (item) {
      self.render(item, true);
    });
    this.scrollToEnd();
  };

  Widget.prototype.reset = function () {
    this.store.clearSession(this.sessionId);
    this.sessionId = null;
    this.history = [];
    this.outbox = [];
    this.hideTyping();
    this.restore();
    if (this.socket) {
      // Leave the old session's room: a fresh connection asks for a fresh session id.
      this.confirmed = false;
      this.socket.disconnect();
      this.socket.connect();
    }
    this.el.input.focus();
  };

  // ---------------------------------------------------------------- rendering

  Widget.prototype.row = function (who, extraClass) {
    var row = el("div", "ipw-row ipw-row--" + who + (extraClass ? " " + extraClass : ""));
    var prev = this.el.log.lastElementChild;
    if (prev && prev.getAttribute("data-who") === who) row.classList.add("ipw-row--cont");
    row.setAttribute("data-who", who);
    this.el.log.appendChild(row);
    return row;
  };

  Widget.prototype.render = function (item, restored) {
    switch (item.kind) {
      case "user":
        return this.renderUser(item);
      case "bot":
        return this.renderBot(item);
      case "kb":
        return this.renderCards(item);
      case "image":
        return this.renderImage(item);
      default:
        return null;
    }
  };

  Widget.prototype.bubble = function (row, who, text) {
    var bubble = el("div", "ipw-msg ipw-msg--" + who);
    bubble.appendChild(el("span", "ipw-visually-hidden", (who === "user" ? TEXT.you : TEXT.bot) + "："));
    var body = el("div", "ipw-msg-text");
    appendRichText(body, text);
    bubble.appendChild(body);
    row.appendChild(bubble);
    return bubble;
  };

  Widget.prototype.renderWelcome = function () {
    var self = this;
    var row = this.row("bot", "ipw-row--welcome");
    this.bubble(row, "bot", TEXT.welcome);
    if (this.opts.suggestions && this.opts.suggestions.length) {
      var group = el("div", "ipw-chips ipw-suggestions");
      attrs(group, { role: "group", "aria-label": TEXT.suggestionsLabel });
      group.appendChild(el("span", "ipw-chips-label", TEXT.suggestionsLabel));
      this.opts.suggestions.forEach(function (q) {
        var chip = button("ipw-chip", q);
        chip.addEventListener("click", function () {
          self.sendText(q, q);
        });
        group.appendChild(chip);
      });
      row.appendChild(group);
    }
  };

  Widget.prototype.renderUser = function (item) {
    this.bubble(this.row("user"), "user", item.text);
  };

  Widget.prototype.renderImage = function (item) {
    var row = this.row("bot");
    var img = el("img", "ipw-image");
    attrs(img, { src: safeHref(item.src) || "", alt: TEXT.image, loading: "lazy" });
    row.appendChild(img);
  };

  Widget.prototype.renderBot = function (item) {
    var self = this;
    var row = this.row("bot");
    if (item.text) this.bubble(row, "bot", item.text);
    if (!item.buttons || !item.buttons.length) return;
    var group = el("div", "ipw-chips");
    attrs(group, { role: "group", "aria-label": "快捷回复" });
    var chips = item.buttons.map(function (b) {
      var chip = button("ipw-chip", b.title);
      chip.setAttribute("data-payload", b.payload);
      chip.disabled = !!item.used;
      chip.addEventListener("click", function () {
        if (item.used) return;
        item.used = true;
        chips.forEach(function (c) {
          c.disabled = true;
        });
        chip.classList.add("ipw-chip--chosen");
        self.persist();
        self.sendText(b.title, b.payload);
        self.el.input.focus();
      });
      group.appendChild(chip);
      return chip;
    });
    row.appendChild(group);
  };

  Widget.prototype.renderCards = function (item) {
    var self = this;
    var measures = item.measures.filter(function (m) {
      return m && typeof m === "object";
    });
    if (!measures.length) return;
    var row = this.row("bot", "ipw-row--cards");
    var wrap = el("div", "ipw-cards");
    var headingId = uid("ipw-cards");
    var heading = el("p", "ipw-cards-heading", TEXT.cardsHeading + "（" + measures.length + "条）");
    heading.id = headingId;
    wrap.setAttribute("role", "group");
    wrap.setAttribute("aria-labelledby", headingId);
    wrap.appendChild(heading);

    var hiddenCards = [];
    measures.forEach(function (m, index) {
      var card = self.card(m);
      if (index >= COMPACT_CARDS) {
        card.hidden = true;
        hiddenCards.push(card);
      }
      wrap.appendChild(card);
    });
    if (hiddenCards.length) {
      var more = button("ipw-more", TEXT.moreCards.replace("{n}", String(hiddenCards.length)));
      more.addEventListener("click", function () {
        hiddenCards.forEach(function (c) {
          c.hidden = false;
        });
        more.parentNode.removeChild(more);
        var first = hiddenCards[0].querySelector(".ipw-toggle");
        if (first) first.focus();
      });
      wrap.appendChild(more);
    }
    row.appendChild(wrap);
    row.appendChild(this.feedback(item));
  };

  Widget.prototype.card = function (m) {
    var card = el("article", "ipw-card");
    var titleId = uid("ipw-card-title");
    card.setAttribute("aria-labelledby", titleId);
    var title = el("h3", "ipw-card-title");
    if (m.region) title.appendChild(el("span", "ipw-tag", m.region));
    title.appendChild(doc.createTextNode(m.title || m.article || m.id || ""));
    title.id = titleId;
    card.appendChild(title);

    var dl = el("dl", "ipw-card-meta");
    function meta(label, values) {
      if (!values.length) return;
      var wrap = el("div", "ipw-card-meta-row");
      wrap.appendChild(el("dt", null, label));
      wrap.appendChild(el("dd", null, values.join("、")));
      dl.appendChild(wrap);
    }
    meta(m.agencies_inferred ? TEXT.agenciesInferred : TEXT.agencies, names(m.agencies));
    meta(TEXT.platforms, names(m.platforms));
    if (dl.childNodes.length) card.appendChild(dl);

    var fullCitation = m.citation || [m.document, m.article].filter(Boolean).join(" ");
    var shortCitation = m.short_citation || fullCitation;
    if (shortCitation) {
      var cite = el("p", "ipw-card-cite");
      cite.appendChild(el("span", "ipw-visually-hidden", TEXT.citation + "："));
      cite.appendChild(el("cite", null, shortCitation));
      card.appendChild(cite);
    }

    if (m.text) {
      var textId = uid("ipw-card-text");
      var toggle = button("ipw-toggle", TEXT.showText);
      attrs(toggle, { "aria-expanded": "false", "aria-controls": textId });
      var body = el("div", "ipw-card-text");
      body.id = textId;
      body.hidden = true;
      if (fullCitation && fullCitation !== shortCitation) {
        body.appendChild(el("p", "ipw-card-source", fullCitation));
      }
      body.appendChild(el("blockquote", "ipw-card-quote", m.text));
      toggle.addEventListener("click", function () {
        var expanded = toggle.getAttribute("aria-expanded") === "true";
        toggle.setAttribute("aria-expanded", expanded ? "false" : "true");
        toggle.textContent = expanded ? TEXT.showText : TEXT.hideText;
        body.hidden = expanded;
      });
      card.appendChild(toggle);
      card.appendChild(body);
    }
    return card;
  };

  Widget.prototype.feedback = function (item) {
    var self = this;
    var box = el("div", "ipw-feedback");
    attrs(box, { role: "group", "aria-label": TEXT.feedbackGroup });
    function thanks() {
      while (box.firstChild) box.removeChild(box.firstChild);
      box.appendChild(el("span", "ipw-feedback-thanks", TEXT.feedbackThanks));
    }
    if (item.feedback) {
      thanks();
      return box;
    }
    box.appendChild(el("span", "ipw-feedback-q", TEXT.feedbackQuestion));
    ["helpful", "unhelpful"].forEach(function (kind) {
      var b = button("ipw-feedback-btn ipw-feedback-btn--" + kind, TEXT[kind]);
      b.setAttribute("data-feedback", kind);
      b.addEventListener("click", function () {
        if (item.feedback) return;
        item.feedback = kind;
        self.persist();
        self.emitUser(FEEDBACK_PAYLOAD[kind]); // silent: no user bubble, no typing indicator
        var focusBack = doc.activeElement === b;
        thanks();
        if (focusBack) self.el.input.focus();
      });
      box.appendChild(b);
    });
    return box;
  };

  // ---------------------------------------------------------------- public API

  var api = {
    version: "1.0.0",
    instance: null,
    /** Mount the widget once; later calls return the existing instance. */
    mount: function (options) {
      if (api.instance) return api.instance;
      api.instance = new Widget(options);
      return api.instance;
    },
    open: function () {
      if (api.instance) api.instance.open(true);
    },
    close: function () {
      if (api.instance) api.instance.close();
    }
  };

  global.IPPolicyWidget = global.IPPolicyWidget && global.IPPolicyWidget.instance ? global.IPPolicyWidget : api;
})(window);
