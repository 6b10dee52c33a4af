/* Staff desk: plain JavaScript, no external assets.
 * The staff token is asked for once and kept in sessionStorage; every data call sends it as
 * `Authorization: Bearer <token>`. A 401 clears it and shows the login form again.
 * All text from the API is inserted with textContent (never innerHTML). */
(function () {
  "use strict";

  var TOKEN_KEY = "staffToken";
  var state = {
    lookups: null,         // topics, agencies, platforms, beneficiaries (loaded once after login)
    results: [],
    selectedId: null,
    reply: {},             // measure id -> reply text (prefetched so that copying is immediate)
    lastReport: null,
  };

  // ---- DOM helpers -------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = value;
        else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : value);
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  function badge(text, cls) { return h("span", { class: "badge " + (cls || ""), text: text }); }

  var STATUS_LABELS = { past: "已过期", future: "未到期", undated: "无具体日期" };
  var REASON_LABELS = { fallback: "未识别", out_of_scope: "超出范围", "没用": "用户反馈没用" };

  function notice(message, kind) {
    var el = $("notice");
    el.textContent = message || "";
    el.className = "notice" + (kind ? " " + kind : "");
    el.hidden = !message;
  }

  // ---- token and API -----------------------------------------------------------------------
  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function setToken(value) {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the page asks again next time */ }
  }

  function ApiFailure(status, message) { this.status = status; this.message = message; }

  function api(path, opts) {
    opts = opts || {};
    var t = opts.token !== undefined ? opts.token : token();
    var headers = { Accept: "application/json" };
    if (t) headers.Authorization = "Bearer " + t;
    return fetch(path, { headers: headers, credentials: "omit", cache: "no-store" }).then(function (resp) {
      if (resp.ok) return opts.raw ? resp : resp.json();
      return resp.json().catch(function () { return {}; }).then(function (body) {
        var message = (body && body.error) || ("请求失败（" + resp.status + "）");
        if (resp.status === 401 && !opts.token) showLogin("口令无效或已失效，请重新登录。");
        if (resp.status === 503 && /STAFF_TOKEN/.test(message) && !opts.token) showLogin("服务端未配置 STAFF_TOKEN，暂不能查询。");
        throw new ApiFailure(resp.status, message);
      });
    }, function () {
      throw new ApiFailure(0, "无法连接服务器，请检查网络或稍后再试。");
    });
  }

  function fail(err) {
    if (err && (err.status === 401 || (err.status === 503 && /STAFF_TOKEN/.test(err.message)))) return;
    notice((err && err.message) || "出错了", "");
  }

  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      if (params[key] !== "" && params[key] !== null && params[key] !== undefined) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key]));
      }
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  // ---- login -------------------------------------------------------------------------------
  function showLogin(message) {
    setToken("");
    state.lookups = null;
    $("app").hidden = true;
    $("login").hidden = false;
    var err = $("login-error");
    err.textContent = message || "";
    err.hidden = !message;
    $("login-token").value = "";
    $("login-token").focus();
  }

  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    loadLookups().then(route, fail);
  }

  function onLogin(event) {
    event.preventDefault();
    var value = $("login-token").value.trim();
    if (!value) return;
    $("login-submit").disabled = true;
    api("/api/session", { token: value }).then(function () {
      setToken(value);
      $("login-error").hidden = true;
      showApp();
    }, function (err) {
      var err401 = err.status === 401 ? "口令错误，请重试。" : err.message;
      $("login-error").textContent = err401;
      $("login-error").hidden = false;
    }).then(function () { $("login-submit").disabled = false; });
  }

  // ---- lookups (filters, pick lists) -------------------------------------------------------
  function loadLookups() {
    if (state.lookups) return Promise.resolve(state.lookups);
    return Promise.all([api("/api/topics"), api("/api/agencies"), api("/api/platforms"), api("/api/beneficiaries")])
      .then(function (all) {
        state.lookups = { topics: all[0].topics, agencies: all[1].agencies, platforms: all[2].platforms,
                          beneficiaries: all[3].beneficiaries };
        fillFilters();
        renderPickList("agency", state.lookups.agencies);
        renderPickList("platform", state.lookups.platforms);
        return state.lookups;
      });
  }

  function fillSelect(select, options) {
    var keep = select.value;
    while (select.options.length > 1) select.remove(1);
    options.forEach(function (o) {
      var parent = select;
      if (o.group) {
        parent = select.querySelector('optgroup[label="' + o.group + '"]');
        if (!parent) { parent = h("optgroup", { label: o.group }); select.appendChild(parent); }
      }
      parent.appendChild(h("option", { value: o.value, text: o.label }));
    });
    select.value = keep;
  }

  function fillFilters() {
    var L = state.lookups;
    fillSelect($("f-topic"), L.topics.filter(function (t) { return t.measure_count > 0; })
      .map(function (t) { return { value: t.id, label: t.label + "（" + t.measure_count + "）" }; }));
    fillSelect($("f-agency"), L.agencies.filter(function (a) { return a.measure_count > 0; })
      .map(function (a) { return { value: a.id, label: a.name + "（" + a.measure_count + "）", group: a.region }; }));
    fillSelect($("f-platform"), L.platforms.filter(function (p) { return p.measure_count > 0; })
      .map(function (p) { return { value: p.id, label: p.name + "（" + p.measure_count + "）", group: p.region }; }));
    fillSelect($("f-beneficiary"), L.beneficiaries.map(function (b) {
      return { value: b.name, label: b.name + "（" + b.measure_count + "）" };
    }));
  }

  // ---- routing -----------------------------------------------------------------------------
  var VIEWS = ["search", "agencies", "platforms", "figures", "report"];

  function route() {
    if (!token()) { showLogin(""); return; }
    var parts = (location.hash || "#/search").replace(/^#\/?/, "").split("/");
    var view = parts[0] === "measure" ? "search" : parts[0];
    if (VIEWS.indexOf(view) < 0) view = "search";
    var arg = parts.length > 1 ? decodeURIComponent(parts.slice(1).join("/")) : "";
    VIEWS.forEach(function (v) { $("view-" + v).hidden = v !== view; });
    Array.prototype.forEach.call(document.querySelectorAll(".tabs a"), function (a) {
      a.classList.toggle("active", a.getAttribute("data-view") === view);
    });
    notice("");
    if (view === "search") {
      if (!state.results.length && !$("results").dataset.loaded) runSearch();
      if (parts[0] === "measure" && arg) openMeasure(arg);
    } else if (view === "agencies") {
      if (arg) openGroup("agency", arg);
    } else if (view === "platforms") {
      if (arg) openGroup("platform", arg);
    } else if (view === "figures") {
      loadFigures();
    } else if (view === "report") {
      initReportDates();
    }
  }

  // ---- search ------------------------------------------------------------------------------
  function searchParams() {
    return {
      q: $("q").value.trim(), region: $("f-region").value, topic: $("f-topic").value,
      agency: $("f-agency").value, platform: $("f-platform").value, beneficiary: $("f-beneficiary").value,
      validity: $("f-validity").value,
    };
  }

  function runSearch(event) {
    if (event) event.preventDefault();
    var params = searchParams();
    params.limit = params.q ? 50 : 200;
    $("result-count").textContent = "检索中…";
    return api("/api/search" + qs(params)).then(function (data) {
      state.results = data.results;
      $("results").dataset.loaded = "1";
      $("result-count").textContent = (data.mode === "search" ? "相关条目 " : "符合条件的条目 ") + data.total + " 条"
        + (data.total > data.results.length ? "（显示前 " + data.results.length + " 条）" : "");
      renderResults();
    }, function (err) { $("result-count").textContent = ""; fail(err); });
  }

  function names(list) {
    return list.map(function (x) { return x.name; }).filter(function (v, i, a) { return a.indexOf(v) === i; }).join("、");
  }

  function renderResults() {
    var ol = clear($("results"));
    if (!state.results.length) {
      ol.appendChild(h("li", { class: "muted", text: "没有找到符合条件的条目。可减少筛选条件或换个说法。" }));
      return;
    }
    state.results.forEach(function (r) {
      var agencies = r.agencies.filter(function (a) { return !a.inferred; });
      ol.appendChild(h("li", null, h("button", {
        type: "button", class: "result" + (r.id === state.selectedId ? " selected" : ""), "data-id": r.id,
        onclick: function () { location.hash = "#/measure/" + encodeURIComponent(r.id); },
      },
        h("span", { class: "result-title" }, badge(r.region), r.title),
        h("span", { class: "result-meta" }, badge(r.validity_label, r.validity_status), r.short_citation),
        h("span", { class: "result-meta" },
          "单位：", h("b", { text: names(agencies.length ? agencies : r.agencies) || "—" }),
          r.platforms.length ? ["　平台：", h("b", { text: names(r.platforms) })] : null)
      )));
    });
  }

  function markSelected() {
    Array.prototype.forEach.call(document.querySelectorAll(".result"), function (b) {
      b.classList.toggle("selected", b.getAttribute("data-id") === state.selectedId);
    });
  }

  // ---- detail ------------------------------------------------------------------------------
  function openMeasure(id) {
    state.selectedId = id;
    markSelected();
    var pane = $("detail");
    clear(pane).appendChild(h("p", { class: "muted", text: "加载中…" }));
    return api("/api/measures/" + encodeURIComponent(id)).then(function (m) {
      renderDetail(m);
      api("/api/reply/" + encodeURIComponent(id)).then(function (r) { state.reply[id] = r.text; }, function () {});
    }, function (err) {
      clear(pane).appendChild(h("p", { class: "error", text: err.message }));
      fail(err);
    });
  }

  function agencyChip(a) {
    return h("a", { class: "chip" + (a.inferred ? " inferred" : ""), href: "#/agencies/" + encodeURIComponent(a.id),
                    title: a.inferred ? "本条未点名，按文件推断：" + a.full_name : a.full_name },
      a.name + (a.inferred ? "（推断）" : ""));
  }

  function platformChip(p) {
    return h("a", { class: "chip", href: "#/platforms/" + encodeURIComponent(p.id), title: p.purpose || p.full_name }, p.name);
  }

  function figuresTable(figures) {
    var table = h("table", { class: "data-table" },
      h("thead", null, h("tr", null, h("th", { text: "类型" }), h("th", { text: "指标/事项" }), h("th", { text: "数值" }),
        h("th", { text: "期限" }), h("th", { text: "状态" }), h("th", { text: "原文" }))));
    var body = h("tbody");
    figures.forEach(function (f) {
      body.appendChild(h("tr", null,
        h("td", { class: "nowrap", text: f.kind === "target" ? "目标" : "期限" }),
        h("td", { text: f.label }),
        h("td", { class: "num", text: f.value ? (f.qualifier || "") + f.value + (f.unit || "") : "—" }),
        h("td", { class: "num", text: f.deadline_text + (f.deadline ? "（" + f.deadline + "）" : "") }),
        h("td", null, badge(STATUS_LABELS[f.status] || f.status, f.status)),
        h("td", { class: "quote", text: "“" + f.quote + "”" })));
    });
    table.appendChild(body);
    return h("div", { class: "table-wrap" }, table);
  }

  function relatedBlock(title, groups, kind) {
    if (!groups.length) return null;
    return h("section", null, h("h3", { text: title }), groups.map(function (g) {
      return h("details", { class: "related", open: g.count <= 8 ? true : null },
        h("summary", null, g.name, g.as_written && g.as_written !== g.name ? "（文中：" + g.as_written + "）" : "",
          "　", badge(g.count + " 条"), " ",
          h("a", { href: "#/" + kind + "/" + encodeURIComponent(g.id), text: "按文件查看" })),
        g.count ? h("ul", { class: "mini-list" }, g.measures.map(function (m) {
          return h("li", null, h("a", { href: "#/measure/" + encodeURIComponent(m.id), text: m.title }),
            h("span", { class: "muted", text: "　" + m.short_citation }));
        })) : h("p", { class: "muted", text: "没有其他条目。" }));
    }));
  }

  function renderDetail(m) {
    var pane = clear($("detail"));
    var status = h("span", { class: "copy-status", role: "status", "aria-live": "polite" });
    var copyButton = h("button", { type: "button", id: "copy-reply", onclick: function () { copyReply(m.id, status, pane); } }, "复制为答复");
    var named = m.agencies.filter(function (a) { return !a.inferred; });
    var inferred = m.agencies.filter(function (a) { return a.inferred; });
    pane.appendChild(h("div", { class: "detail-head" },
      h("div", null,
        h("h2", { id: "detail-title" }, m.title),
        h("p", { class: "section-path", text: m.section_path.join(" › ") })),
      h("div", { class: "copy-box" }, status, copyButton)));
    pane.appendChild(h("p", { class: "citation" }, badge(m.region), badge(m.validity_label, m.validity_status), m.citation));
    if (m.validity_note) pane.appendChild(h("p", { class: "validity-note", text: m.validity_note }));
    pane.appendChild(h("blockquote", { class: "verbatim", id: "verbatim", text: m.text }));
    var facts = h("dl", { class: "facts" });
    if (m.responsibility_text) append(facts, [h("dt", { text: "原文责任分工" }), h("dd", { text: m.responsibility_text })]);
    append(facts, [h("dt", { text: "责任单位" }), h("dd", null,
      named.length ? named.map(agencyChip) : h("span", { class: "muted", text: "本条未列明" }),
      inferred.length ? h("div", null, h("span", { class: "muted", text: "推断：" }), inferred.map(agencyChip)) : null)]);
    append(facts, [h("dt", { text: "平台/机构" }), h("dd", null,
      m.platforms.length ? m.platforms.map(platformChip) : h("span", { class: "muted", text: "无" }))]);
    append(facts, [h("dt", { text: "主题" }), h("dd", { text: m.topics.map(function (t) { return t.label; }).join("；") })]);
    append(facts, [h("dt", { text: "适用对象" }), h("dd", { text: m.beneficiaries.join("、") || "—" })]);
    append(facts, [h("dt", { text: "文件" }), h("dd", { text: m.document_info.reference + "　" + m.document_info.issuers.join("、") + " " + m.document_info.date })]);
    pane.appendChild(facts);
    if (m.figures.length) {
      pane.appendChild(h("h3", { text: "数字与期限（截至 " + m.today + "）" }));
      pane.appendChild(figuresTable(m.figures));
    }
    append(pane, relatedBlock("同一单位的其他条目", m.related.agencies, "agencies"));
    append(pane, relatedBlock("同一平台的其他条目", m.related.platforms, "platforms"));
    pane.scrollTop = 0;
  }

  // ---- copy --------------------------------------------------------------------------------
  function copyWithTextarea(text) {
    var area = h("textarea", { readonly: true, "aria-hidden": "true" });
    area.value = text;
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return copyWithTextarea(text); });
    }
    return Promise.resolve(copyWithTextarea(text));
  }

  function copyReply(id, status, pane) {
    var get = state.reply[id] ? Promise.resolve(state.reply[id])
      : api("/api/reply/" + encodeURIComponent(id)).then(function (r) { state.reply[id] = r.text; return r.text; });
    return get.then(function (text) {
      return copyText(text).then(function (ok) {
        if (ok) {
          status.textContent = "已复制";
          setTimeout(function () { status.textContent = ""; }, 2500);
        } else {
          status.textContent = "请手动复制";
          var old = pane.querySelector(".reply-manual");
          if (old) old.remove();
          var manual = h("textarea", { class: "reply-manual", readonly: true });
          manual.value = text;
          pane.insertBefore(manual, pane.children[1]);
          manual.select();
        }
      });
    }, fail);
  }

  // ---- agency / platform views -------------------------------------------------------------
  function renderPickList(kind, items) {
    var list = clear($(kind + "-list"));
    var filter = ($(kind + "-filter").value || "").trim();
    var region = null;
    items.filter(function (x) {
      if (!filter) return true;
      return [x.name].concat(x.aliases, x.user_aliases).some(function (n) { return n.indexOf(filter) >= 0; });
    }).slice().sort(function (a, b) {
      return a.region === b.region ? b.measure_count - a.measure_count : ["上海", "大同", "全国"].indexOf(a.region) - ["上海", "大同", "全国"].indexOf(b.region);
    }).forEach(function (x) {
      if (x.region !== region) { region = x.region; list.appendChild(h("li", { class: "pick-region", text: region })); }
      list.appendChild(h("li", null, h("button", {
        type: "button", "data-id": x.id,
        onclick: function () { location.hash = "#/" + (kind === "agency" ? "agencies" : "platforms") + "/" + encodeURIComponent(x.id); },
      }, h("span", { text: x.name }), h("span", { class: "count", text: x.measure_count + " 条" }))));
    });
  }

  function openGroup(kind, key) {
    var pane = $(kind + "-detail");
    Array.prototype.forEach.call($(kind + "-list").querySelectorAll("button"), function (b) {
      b.classList.toggle("selected", b.getAttribute("data-id") === key);
    });
    clear(pane).appendChild(h("p", { class: "muted", text: "加载中…" }));
    var path = kind === "agency" ? "/api/agencies/" : "/api/platforms/";
    api(path + encodeURIComponent(key)).then(function (data) {
      var rec = data[kind];
      clear(pane);
      pane.appendChild(h("h2", { id: kind + "-title", text: rec.name }));
      var aliases = (rec.aliases || []).concat(rec.user_aliases || []);
      pane.appendChild(h("p", { class: "muted" }, badge(rec.region), aliases.length ? "又称：" + aliases.join("、") : "",
        rec.purpose ? "　" + rec.purpose : ""));
      pane.appendChild(h("p", { class: "summary", text: "共 " + data.total + " 条，分布在 " + data.groups.length + " 份文件中。" }));
      data.groups.forEach(function (g) {
        pane.appendChild(h("section", { class: "doc-group" },
          h("h3", null, g.document.short_title, " ", badge(g.count + " 条"),
            g.document.validity_status === "expired" ? badge("历史文件", "expired") : null),
          h("p", { class: "muted", text: g.document.reference }),
          h("table", { class: "data-table" }, h("tbody", null, g.measures.map(function (m) {
            var own = m[kind === "agency" ? "agencies" : "platforms"].filter(function (x) { return x.id === rec.id; });
            return h("tr", null,
              h("td", { class: "num", text: m.short_citation }),
              h("td", null, h("a", { href: "#/measure/" + encodeURIComponent(m.id), text: m.title })),
              h("td", { class: "quote", text: own.map(function (x) { return x.name + (x.inferred ? "（推断）" : ""); }).join("、") }),
              h("td", null, badge(m.validity_label, m.validity_status)));
          })))));
      });
      pane.scrollTop = 0;
    }, function (err) {
      clear(pane).appendChild(h("p", { class: "error", text: err.message }));
      fail(err);
    });
  }

  // ---- figures -----------------------------------------------------------------------------
  function loadFigures() {
    api("/api/figures").then(function (data) {
      $("figures-summary").textContent = "截至 " + data.today + "：共 " + data.total + " 项数字与期限，其中已过期 "
        + data.counts.past + " 项，未到期 " + data.counts.future + " 项，无具体日期 " + data.counts.undated + " 项。";
      var table = clear($("figures-table"));
      table.appendChild(h("thead", null, h("tr", null, ["地区", "条目", "类型", "指标/事项", "数值", "期限", "状态", "原文"].map(function (t) {
        return h("th", { text: t });
      }))));
      var rows = data.figures.slice().sort(function (a, b) {
        return (a.deadline || "9999").localeCompare(b.deadline || "9999") || a.short_citation.localeCompare(b.short_citation);
      });
      table.appendChild(h("tbody", null, rows.map(function (f) {
        return h("tr", { "data-status": f.status },
          h("td", { class: "nowrap", text: f.region }),
          h("td", null, h("a", { href: "#/measure/" + encodeURIComponent(f.measure_id), text: f.short_citation }),
            h("div", { class: "muted", text: f.measure_title })),
          h("td", { class: "nowrap", text: f.kind === "target" ? "目标" : "期限" }),
          h("td", { text: f.label }),
          h("td", { class: "num", text: f.value ? (f.qualifier || "") + f.value + (f.unit || "") : "—" }),
          h("td", { class: "num", text: f.deadline_text + (f.deadline ? "（" + f.deadline + "）" : "") }),
          h("td", null, badge(STATUS_LABELS[f.status] || f.status, f.status)),
          h("td", { class: "quote", text: "“" + f.quote + "”" }));
      })));
      var periods = clear($("periods-table"));
      periods.appendChild(h("thead", null, h("tr", null, ["地区", "文件", "期间", "起", "止", "状态", "原文"].map(function (t) {
        return h("th", { text: t });
      }))));
      periods.appendChild(h("tbody", null, data.periods.map(function (p) {
        return h("tr", null, h("td", { class: "nowrap", text: p.region }), h("td", { text: p.short_citation }), h("td", { text: p.label }),
          h("td", { class: "num", text: p.start || "—" }), h("td", { class: "num", text: p.deadline }),
          h("td", null, badge(STATUS_LABELS[p.status] || p.status, p.status)), h("td", { class: "quote", text: "“" + p.quote + "”" }));
      })));
    }, fail);
  }

  // ---- report ------------------------------------------------------------------------------
  // The report counts days in Beijing time (webapp/reporting/days.py), whatever the browser's time zone.
  function beijingDay(daysAgo) {
    var d = new Date(Date.now() + 8 * 3600 * 1000 - daysAgo * 86400 * 1000);
    var m = d.getUTCMonth() + 1, day = d.getUTCDate();
    return d.getUTCFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
  }

  function initReportDates() {
    if (!$("r-until").value) $("r-until").value = beijingDay(0);
    if (!$("r-since").value) $("r-since").value = beijingDay(29);
  }

  function reportParams() { return { since: $("r-since").value, until: $("r-until").value }; }

  function runReport(event) {
    if (event) event.preventDefault();
    $("report-summary").textContent = "生成中…";
    clear($("report-groups"));
    api("/api/report" + qs(reportParams())).then(renderReport, function (err) {
      $("report-summary").textContent = "";
      fail(err);
    });
  }

  function renderReport(data) {
    state.lastReport = data;
    var r = data.reasons;
    $("report-summary").textContent = (data.since || "最早") + " 至 " + (data.until || "今天") + "：共 " + data.total
      + " 个未答复问题（未识别 " + r.fallback + "，超出范围 " + r.out_of_scope + "，用户反馈没用 " + r["没用"] + "）。";
    var box = clear($("report-groups"));
    if (!data.total) { box.appendChild(h("p", { class: "muted", text: "该期间没有未答复的问题。" })); return; }
    var table = h("table", { class: "data-table", id: "report-table" },
      h("thead", null, h("tr", null, ["时间", "原因", "问题", "会话"].map(function (t) { return h("th", { text: t }); }))));
    var body = h("tbody");
    data.groups.forEach(function (g) {
      body.appendChild(h("tr", { class: "group-row" }, h("td", { colspan: "4" }, g.topic_label + "　", badge(g.count + " 个"))));
      g.items.forEach(function (item) {
        body.appendChild(h("tr", null,
          h("td", { class: "num", text: item.time }),
          h("td", null, item.reasons.map(function (x) { return badge(REASON_LABELS[x] || x, "reason"); })),
          h("td", { text: item.question }),
          h("td", null, h("a", {
            href: "#/report", class: "open-transcript", "data-sender": item.sender_id,
            onclick: function (e) { e.preventDefault(); openTranscript(item.sender_id, item.event_id); },
          }, "查看对话"))));
      });
    });
    table.appendChild(body);
    box.appendChild(h("div", { class: "table-wrap" }, table));
  }

  function downloadCsv() {
    api("/api/report" + qs(Object.assign(reportParams(), { format: "csv" })), { raw: true }).then(function (resp) {
      return resp.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = h("a", { href: url, download: "unanswered-" + ($("r-since").value || "all") + "-" + ($("r-until").value || "today") + ".csv" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 5000);
    }, fail);
  }

  function openTranscript(sender, eventId) {
    var overlay = $("transcript");
    var list = clear($("transcript-body"));
    $("transcript-title").textContent = "对话记录：" + sender;
    list.appendChild(h("li", { class: "session", text: "加载中…" }));
    overlay.hidden = false;
    $("transcript-close").focus();
    api("/api/conversations/" + encodeURIComponent(sender)).then(function (data) {
      clear(list);
      var mark = null;
      data.events.forEach(function (e) {
        var li;
        if (e.type === "user") {
          li = h("li", { class: "user" + (e.flag ? " flagged" : "") + (e.id === eventId ? " highlight" : "") },
            h("span", { class: "time", text: e.time + (e.intent ? "　意图：" + e.intent : "") }), e.text);
          if (e.id === eventId) mark = li;
        } else if (e.type === "bot") {
          li = h("li", { class: "bot" + (e.flag ? " flagged" : "") },
            h("span", { class: "time", text: e.time + (e.response ? "　回复：" + e.response : "") }), e.text || "",
            e.measures && e.measures.length ? h("div", { class: "muted", text: "引用：" + e.measures.map(function (m) { return m.citation || m.id; }).join("；") }) : null,
            e.buttons && e.buttons.length ? h("div", { class: "muted", text: "按钮：" + e.buttons.join(" | ") }) : null);
        } else if (e.type === "action") {
          li = h("li", { class: "action" + (e.flag ? " flagged" : ""), text: "⟶ " + e.action });
        } else {
          li = h("li", { class: "session", text: "—— " + (e.type === "restart" ? "重新开始" : "新会话") + " " + e.time + " ——" });
        }
        list.appendChild(li);
      });
      if (mark) mark.scrollIntoView({ block: "center" });
    }, function (err) {
      clear(list).appendChild(h("li", { class: "session error", text: err.message }));
      fail(err);
    });
  }

  function closeTranscript() { $("transcript").hidden = true; }

  // ---- wiring ------------------------------------------------------------------------------
  function init() {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", function () { showLogin("已退出。"); location.hash = "#/search"; });
    $("search-form").addEventListener("submit", runSearch);
    ["f-region", "f-topic", "f-agency", "f-platform", "f-beneficiary", "f-validity"].forEach(function (id) {
      $(id).addEventListener("change", function () { runSearch(); });
    });
    $("f-reset").addEventListener("click", function () {
      ["q", "f-region", "f-topic", "f-agency", "f-platform", "f-beneficiary", "f-validity"].forEach(function (id) { $(id).value = ""; });
      runSearch();
    });
    $("agency-filter").addEventListener("input", function () { if (state.lookups) renderPickList("agency", state.lookups.agencies); });
    $("platform-filter").addEventListener("input", function () { if (state.lookups) renderPickList("platform", state.lookups.platforms); });
    $("report-form").addEventListener("submit", runReport);
    $("r-csv").addEventListener("click", downloadCsv);
    $("transcript-close").addEventListener("click", closeTranscript);
    $("transcript").addEventListener("click", function (e) { if (e.target === $("transcript")) closeTranscript(); });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeTranscript(); });
    window.addEventListener("hashchange", function () { if (token() && state.lookups) route(); });
    if (token()) showApp(); else showLogin("");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
