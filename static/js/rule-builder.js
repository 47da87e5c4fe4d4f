/* Visual rule builder: renders a rule's JSON (docs/rules.md) as a form tree and
 * serialises it back into the JSON textarea it belongs to. No build step.
 *
 * Markup: <div data-rule-editor data-target="TEXTAREA_ID" data-name="entry_rule"
 *          [data-optional]></div>, plus json_script blocks #field-catalog and
 * #builder-vocab. After every edit it writes the textarea and fires a
 * "rules-changed" event on <body> (htmx uses it to refresh the preview).
 * Validation errors (from #form-rule-errors or a swapped #rule-errors) are shown
 * at the node whose JSON path is the longest prefix of the error's path.
 */
(function () {
  "use strict";

  function readJSON(id, fallback) {
    var el = document.getElementById(id);
    if (!el) return fallback;
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  var catalog = readJSON("field-catalog", []);
  var vocab = readJSON("builder-vocab", { event: {}, metrics: [], segments: [] });
  // Account segments (docs/rules.md, "Account segments"): their own catalog, and the
  // customer catalog inside "members". The unit comes from the form's unit select
  // (new segments) or the editor's data-unit.
  var accountCatalog = readJSON("account-field-catalog", []);
  var fieldsByPath = {};
  catalog.concat(accountCatalog).forEach(function (f) { fieldsByPath[f.path] = f; });
  function catalogFor(unit) { return unit === "account" ? accountCatalog : catalog; }
  var STATUSES = ["preferred", "covered", "prior_auth", "step_edit", "not_covered"];

  var NUMERIC = ["integer", "decimal", "number"];
  var OPS_BY_TYPE = {
    string: ["eq", "ne", "in", "not_in", "contains", "is_set", "is_not_set"],
    integer: ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_set", "is_not_set"],
    decimal: ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_set", "is_not_set"],
    date: ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_set", "is_not_set"],
    boolean: ["eq", "ne", "is_set", "is_not_set"],
    attr: ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains", "is_set", "is_not_set"]
  };
  var OP_LABELS = {
    eq: "is", ne: "is not", "in": "is one of", not_in: "is none of", gt: "greater than",
    gte: "at least", lt: "less than", lte: "at most", between: "between", contains: "contains",
    is_set: "is set", is_not_set: "is not set"
  };
  var CMP_OPS = ["gte", "gt", "eq", "ne", "lt", "lte"];
  var EVENT_KEYS = ["channel", "kind", "topic", "asset"];

  // --- small DOM helpers -----------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function labelled(text, control) {
    return el("label", {}, [document.createTextNode(text), control]);
  }
  function select(options, value, aria, role) {
    var s = el("select", { "aria-label": aria, "data-role": role });
    options.forEach(function (o) {
      var opt = typeof o === "string" ? { value: o, label: o } : o;
      var node = el("option", { value: opt.value, text: opt.label });
      if (String(opt.value) === String(value)) node.selected = true;
      s.appendChild(node);
    });
    return s;
  }
  function input(type, value, aria, role) {
    var i = el("input", { type: type, "aria-label": aria, "data-role": role });
    i.value = value === undefined || value === null ? "" : value;
    if (type === "number") i.step = "any";
    return i;
  }
  function button(text, aria, onClick, cls) {
    var b = el("button", { type: "button", className: "small " + (cls || ""), "aria-label": aria, text: text });
    b.addEventListener("click", onClick);
    return b;
  }

  function fieldType(path) {
    if (path && path.indexOf("attr.") === 0) return "attr";
    if (fieldsByPath[path]) return fieldsByPath[path].type;
    return "string";
  }
  function allowedValues(path) {
    var f = fieldsByPath[path];
    return f && f.allowed_values && f.allowed_values.length ? f.allowed_values : null;
  }
  function coerce(raw, type) {
    if (raw === "") return "";
    if (NUMERIC.indexOf(type) >= 0 || type === "attr") {
      var n = Number(raw);
      if (raw.trim() !== "" && !isNaN(n)) return n;
    }
    if (type === "boolean") return raw === "true";
    return raw;
  }

  function kindOf(node) {
    if (!node || typeof node !== "object") return "unknown";
    if ("all" in node) return "all";
    if ("any" in node) return "any";
    if ("not" in node) return "not";
    if ("field" in node) return "field";
    if ("event" in node) return "event";
    if ("rx" in node) return "rx";
    if ("segment" in node) return "segment";
    if ("account_segment" in node) return "account_segment";
    if ("members" in node) return "members";
    if ("coverage" in node) return "coverage";
    return "unknown";
  }

  function newCondition(kind, unit) {
    if (kind === "members") return { members: { all: [] }, count: { op: "gte", value: 1 } };
    if (kind === "coverage") return { coverage: { product: "" }, status: { op: "in", value: ["covered"] } };
    if (kind === "account_segment") return { account_segment: (vocab.account_segments || [])[0] || "" };
    if (kind === "segment" && unit === "account") return { segment: (vocab.account_segments || [])[0] || "" };
    if (kind === "field") {
      var f = catalogFor(unit)[0] || { path: "specialty", type: "string" };
      var vals = allowedValues(f.path);
      return { field: f.path, op: "eq", value: vals ? vals[0] : "" };
    }
    if (kind === "event") return { event: {}, within_days: 90 };
    if (kind === "rx") return { rx: {}, metric: "trx", months: 3, sum: { op: "gte", value: 1 } };
    if (kind === "segment") return { segment: vocab.segments[0] || "" };
    if (kind === "not") return { not: { all: [] } };
    var g = {}; g[kind] = []; return g;
  }

  // --- one editor ------------------------------------------------------------
  function Editor(host) {
    this.host = host;
    this.name = host.getAttribute("data-name");
    this.optional = host.hasAttribute("data-optional");
    this.textarea = document.getElementById(host.getAttribute("data-target"));
    var unitSelect = document.getElementById("id_unit");
    this.unit = unitSelect ? unitSelect.value : (host.getAttribute("data-unit") || "customer");
    var me = this;
    if (unitSelect) unitSelect.addEventListener("change", function () { me.unit = unitSelect.value; me.render(); me.notify(); });
    this.status = el("p", { className: "small muted", "aria-live": "polite" });
    this.tree = el("div", { className: "rb-tree" });
    host.appendChild(this.tree);
    host.appendChild(this.status);
    this.loadFromTextarea();
    var self = this, timer = null;
    this.textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (self.loadFromTextarea()) self.notify();
      }, 400);
    });
  }

  Editor.prototype.loadFromTextarea = function () {
    var raw = this.textarea.value.trim();
    if (!raw) { this.rule = null; this.render(); this.status.textContent = ""; return true; }
    try {
      this.rule = JSON.parse(raw);
      this.status.textContent = "";
      this.render();
      return true;
    } catch (e) {
      this.status.textContent = "The JSON is not valid yet (" + e.message + "); the builder shows the last valid rule.";
      return false;
    }
  };

  Editor.prototype.changed = function (rerender) {
    this.textarea.value = this.rule === null ? "" : JSON.stringify(this.rule, null, 2);
    if (rerender) this.render();
    this.notify();
  };
  Editor.prototype.notify = function () {
    document.body.dispatchEvent(new CustomEvent("rules-changed", { bubbles: true }));
  };

  Editor.prototype.render = function () {
    var self = this;
    var focused = document.activeElement;
    var focusKey = focused && this.tree.contains(focused)
      ? (focused.closest("[data-path]") || {}).getAttribute && [focused.closest("[data-path]").getAttribute("data-path"), focused.getAttribute("data-role")]
      : null;
    this.tree.innerHTML = "";
    if (this.rule === null) {
      if (this.optional) {
        this.tree.appendChild(el("p", { className: "muted small", text: "No exit rule: members leave when the entry rule stops matching." }));
        this.tree.appendChild(button("+ Add exit rule", "Add an exit rule", function () {
          self.rule = { all: [] }; self.changed(true);
        }));
      }
      return;
    }
    this.tree.appendChild(this.renderNode(this.rule, this.name, function (replacement) {
      self.rule = replacement; self.changed(true);
    }, true, this.unit));
    // Keyboard users keep their place: a new condition's first control, the group's
    // first "+" button after a removal, else the control that had focus.
    var target = null;
    if (this.focusNext) {
      target = this.tree.querySelector(this.focusNext);
      this.focusNext = null;
    } else if (focusKey) {
      target = this.tree.querySelector('[data-path="' + focusKey[0] + '"] [data-role="' + focusKey[1] + '"]');
    }
    if (target) target.focus();
  };
  Editor.prototype.focusAfterRender = function (path) {
    var at = '[data-path="' + path + '"] ';
    this.focusNext = [at + "select", at + "input", at + "button"].join(", ");
  };

  // replace(newNode) swaps this node in its parent; replace(undefined) removes it.
  Editor.prototype.renderNode = function (node, path, replace, isRoot, unit) {
    var kind = kindOf(node);
    if (kind === "all" || kind === "any" || kind === "not") return this.renderGroup(node, kind, path, replace, isRoot, unit);
    return this.renderCondition(node, kind, path, replace, isRoot, unit);
  };

  Editor.prototype.renderGroup = function (node, kind, path, replace, isRoot, unit) {
    var self = this;
    var box = el("div", { className: "rb-group rb-" + kind, "data-path": path, role: "group", "aria-label": kind + " group" });
    var head = el("div", { className: "rb-head" });
    if (kind === "not") {
      head.appendChild(el("span", { className: "rb-kind", text: "Not" }));
      head.appendChild(el("span", { className: "small muted", text: "none of the customers matching this" }));
    } else {
      var typeSel = select([{ value: "all", label: "ALL of these (and)" }, { value: "any", label: "ANY of these (or)" }], kind, "Group type", "group-type");
      typeSel.addEventListener("change", function () {
        var children = node[kind]; delete node[kind]; node[typeSel.value] = children; self.changed(true);
      });
      head.appendChild(labelled("Match ", typeSel));
    }
    if (isRoot && self.optional) {
      head.appendChild(button("Remove exit rule", "Remove the exit rule", function () { replace(null); }, "danger"));
    } else if (!isRoot) {
      head.appendChild(button("Remove group", "Remove this group", function () { replace(undefined); }));
    }
    box.appendChild(head);
    var children = el("div", { className: "rb-children" });
    if (kind === "not") {
      if (node.not && typeof node.not === "object") {
        children.appendChild(self.renderNode(node.not, path + ".not", function (r) {
          node.not = r === undefined ? { all: [] } : r; self.changed(true);
        }, false, unit));
      }
    } else {
      var list = node[kind];
      if (!Array.isArray(list)) list = node[kind] = [];
      if (!list.length) {
        children.appendChild(el("p", { className: "small muted", text: kind === "all" ? "Empty ALL group: matches everyone." : "Empty ANY group: matches nobody." }));
      }
      list.forEach(function (child, i) {
        children.appendChild(self.renderNode(child, path + "." + kind + "[" + i + "]", function (r) {
          if (r === undefined) {
            list.splice(i, 1);
            self.focusNext = '[data-add-for="' + path + '"] button';
          } else list[i] = r;
          self.changed(true);
        }, false, unit));
      });
      var add = el("div", { className: "rb-add", "data-add-for": path });
      var kinds = unit === "account"
        ? [["field", "+ Field"], ["members", "+ Members"], ["event", "+ Event"], ["rx", "+ Rx"],
           ["coverage", "+ Coverage"], ["segment", "+ Segment"]]
        : [["field", "+ Field"], ["event", "+ Event"], ["rx", "+ Rx"], ["segment", "+ Segment"],
           ["account_segment", "+ Account segment"]];
      kinds.concat([["all", "+ ALL group"], ["any", "+ ANY group"], ["not", "+ NOT group"]]).forEach(function (pair) {
        add.appendChild(button(pair[1], "Add " + pair[0] + " condition to this group", function () {
          list.push(newCondition(pair[0], unit));
          self.focusAfterRender(path + "." + kind + "[" + (list.length - 1) + "]");
          self.changed(true);
        }));
      });
      children.appendChild(add);
    }
    box.appendChild(children);
    return box;
  };

  Editor.prototype.renderCondition = function (node, kind, path, replace, isRoot, unit) {
    var self = this;
    var row = el("div", { className: "rb-cond", "data-path": path, role: "group", "aria-label": kind + " condition" });
    row.appendChild(el("span", { className: "rb-kind", text: kind.replace("_", " ") }));
    var changed = function () { self.changed(false); };
    if (kind === "field") this.fieldControls(node, row, changed, unit);
    else if (kind === "event") this.eventControls(node, row, changed);
    else if (kind === "rx") this.rxControls(node, row, changed);
    else if (kind === "segment" || kind === "account_segment") {
      var accounts = kind === "account_segment" || unit === "account";
      var opts = (accounts ? (vocab.account_segments || []) : vocab.segments).slice();
      if (node[kind] && opts.indexOf(node[kind]) < 0) opts.unshift(node[kind]);
      var s = select(opts, node[kind], accounts ? "Account segment" : "Segment", kind);
      s.addEventListener("change", function () { node[kind] = s.value; changed(); });
      row.appendChild(labelled(kind === "account_segment" ? "affiliated account in " : "member of ", s));
    } else if (kind === "members") {
      cmpControls(node, "count", row, "count of matching customers", { op: "gte", value: 1 }, changed, true);
      var useShare = el("input", { type: "checkbox", "aria-label": "Also compare the share", "data-role": "share-on" });
      useShare.checked = "share" in node;
      useShare.addEventListener("change", function () {
        if (useShare.checked) node.share = { op: "gte", value: 0.5 }; else delete node.share;
        self.changed(true);
      });
      row.appendChild(labelled(" share ", useShare));
      if ("share" in node) cmpControls(node, "share", row, "share", { op: "gte", value: 0.5 }, changed, false);
      var inner = el("div", { className: "rb-children rb-members" });
      inner.appendChild(el("p", { className: "small muted", text: "Affiliated customers matching:" }));
      if (!node.members || typeof node.members !== "object") node.members = { all: [] };
      inner.appendChild(self.renderNode(node.members, path + ".members", function (r) {
        node.members = r === undefined ? { all: [] } : r; self.changed(true);
      }, false, "customer"));
      row.appendChild(inner);
    } else if (kind === "coverage") {
      this.coverageControls(node, row, changed);
    } else {
      row.appendChild(el("code", { text: JSON.stringify(node) }));
      row.appendChild(el("span", { className: "small muted", text: " (edit in the JSON view)" }));
    }
    if (isRoot) {
      row.appendChild(button("Wrap in group", "Wrap this condition in an ALL group", function () {
        replace({ all: [node] });
      }));
    } else {
      row.appendChild(button("Remove", "Remove this condition", function () { replace(undefined); }));
    }
    return row;
  };

  Editor.prototype.coverageControls = function (node, row, changed) {
    var self = this;
    if (!node.coverage || typeof node.coverage !== "object") node.coverage = { product: "" };
    var product = input("text", node.coverage.product || "", "Coverage product", "coverage-product");
    product.size = 12;
    product.addEventListener("change", function () { node.coverage.product = product.value.trim(); changed(); });
    row.appendChild(labelled("product ", product));
    var status = node.status || { op: "in", value: [] };
    var statusOp = select([{ value: "", label: "any status" }, { value: "in", label: "status is one of" }, { value: "not_in", label: "status is none of" }], node.status ? status.op : "", "Status comparison", "status-op");
    statusOp.addEventListener("change", function () {
      if (!statusOp.value) delete node.status;
      else node.status = { op: statusOp.value, value: (node.status && node.status.value) || ["covered"] };
      self.changed(true);
    });
    row.appendChild(labelled("", statusOp));
    if (node.status) row.appendChild(chips(node.status, STATUSES, changed));
    var useLives = el("input", { type: "checkbox", "aria-label": "Compare covered lives", "data-role": "lives-on" });
    useLives.checked = "lives" in node;
    useLives.addEventListener("change", function () {
      if (useLives.checked) node.lives = { op: "gte", value: 0 }; else delete node.lives;
      self.changed(true);
    });
    row.appendChild(labelled(" lives ", useLives));
    if ("lives" in node) cmpControls(node, "lives", row, "lives", { op: "gte", value: 0 }, changed, true);
  };

  Editor.prototype.fieldControls = function (node, row, changed, unit) {
    var self = this;
    var options = catalogFor(unit).map(function (f) { return { value: f.path, label: f.label || f.path }; });
    if (!options.some(function (o) { return o.value === node.field; })) options.unshift({ value: node.field || "", label: node.field || "(choose)" });
    var fieldSel = select(options, node.field, "Field", "field");
    fieldSel.addEventListener("change", function () {
      node.field = fieldSel.value;
      var ops = OPS_BY_TYPE[fieldType(node.field)] || OPS_BY_TYPE.string;
      if (ops.indexOf(node.op) < 0) node.op = "eq";
      var vals = allowedValues(node.field);
      var scalar = vals ? vals[0] : (fieldType(node.field) === "boolean" ? true : "");
      if (node.op === "in" || node.op === "not_in") node.value = vals ? [vals[0]] : [];
      else if (node.op === "between") node.value = ["", ""];
      else if (node.op === "is_set" || node.op === "is_not_set") delete node.value;
      else node.value = scalar;
      self.changed(true);
    });
    row.appendChild(labelled("field ", fieldSel));
    var type = fieldType(node.field);
    var ops = OPS_BY_TYPE[type] || OPS_BY_TYPE.string;
    var opOptions = ops.map(function (o) { return { value: o, label: OP_LABELS[o] }; });
    if (ops.indexOf(node.op) < 0) opOptions.unshift({ value: node.op, label: String(node.op) });
    var opSel = select(opOptions, node.op, "Operator", "op");
    opSel.addEventListener("change", function () {
      var was = node.op; node.op = opSel.value;
      var vals = allowedValues(node.field);
      if (node.op === "is_set" || node.op === "is_not_set") delete node.value;
      else if (node.op === "in" || node.op === "not_in") node.value = Array.isArray(node.value) ? node.value : (node.value !== undefined && node.value !== "" ? [node.value] : (vals ? [vals[0]] : []));
      else if (node.op === "between") node.value = Array.isArray(node.value) && node.value.length === 2 ? node.value : ["", ""];
      else if (Array.isArray(node.value) || was === "is_set" || was === "is_not_set") node.value = vals ? vals[0] : "";
      self.changed(true);
    });
    row.appendChild(labelled("", opSel));
    this.valueControls(node, row, type, changed);
  };

  Editor.prototype.valueControls = function (node, row, type, changed) {
    var vals = allowedValues(node.field);
    var op = node.op;
    if (op === "is_set" || op === "is_not_set") return;
    var htmlType = NUMERIC.indexOf(type) >= 0 ? "number" : (type === "date" ? "date" : "text");
    if (op === "in" || op === "not_in") {
      if (vals) {
        row.appendChild(chips(node, vals, changed));
      } else {
        var list = input("text", Array.isArray(node.value) ? node.value.join(", ") : "", "Values, comma-separated", "value");
        list.addEventListener("change", function () {
          node.value = list.value.split(",").map(function (v) { return v.trim(); }).filter(Boolean).map(function (v) { return coerce(v, type); });
          changed();
        });
        row.appendChild(labelled("values ", list));
      }
      return;
    }
    if (op === "between") {
      var pair = Array.isArray(node.value) ? node.value : ["", ""];
      var lo = input(htmlType, pair[0], "From", "value-lo"), hi = input(htmlType, pair[1], "To", "value-hi");
      var update = function () { node.value = [coerce(lo.value, type), coerce(hi.value, type)]; changed(); };
      lo.addEventListener("change", update); hi.addEventListener("change", update);
      row.appendChild(labelled("from ", lo)); row.appendChild(labelled("to ", hi));
      return;
    }
    var control;
    if (vals) control = select(humanOptions(vals), node.value, "Value", "value");
    else if (type === "boolean") control = select(["true", "false"], String(node.value), "Value", "value");
    else control = input(htmlType, node.value, "Value", "value");
    control.addEventListener("change", function () { node.value = coerce(control.value, type); changed(); });
    row.appendChild(labelled("", control));
  };

  // Chips with search for a multi-value list: each chosen value is a removable chip;
  // typing in the box filters the vocabulary (a datalist) and Enter or a pick adds one.
  var chipLists = 0;
  function chips(node, vals, changed) {
    if (!Array.isArray(node.value)) node.value = [];
    var box = el("span", { className: "rb-chips", "data-role": "value" });
    var listId = "rb-chip-list-" + (++chipLists);
    var datalist = el("datalist", { id: listId });
    var search = el("input", { type: "search", list: listId, "aria-label": "Add a value", placeholder: "type to add…", "data-role": "chip-search" });
    function refresh() {
      box.querySelectorAll(".rb-chip").forEach(function (c) { c.remove(); });
      datalist.innerHTML = "";
      node.value.forEach(function (v) {
        var chip = el("button", { type: "button", className: "rb-chip", "aria-label": "Remove " + human(v), text: human(v) + " ×" });
        chip.addEventListener("click", function () {
          node.value = node.value.filter(function (x) { return x !== v; });
          refresh(); changed();
        });
        box.insertBefore(chip, search);
      });
      vals.forEach(function (v) {
        if (node.value.indexOf(v) < 0) datalist.appendChild(el("option", { value: human(v), "data-value": v }));
      });
    }
    function add() {
      var typed = search.value.trim().toLowerCase();
      var match = vals.filter(function (v) { return v.toLowerCase() === typed || human(v).toLowerCase() === typed; })[0];
      if (match && node.value.indexOf(match) < 0) { node.value = node.value.concat([match]); refresh(); changed(); }
      if (match) search.value = "";
    }
    search.addEventListener("change", add);
    search.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); add(); } });
    box.appendChild(search); box.appendChild(datalist);
    refresh();
    return labelled("values ", box);
  }

  // "rep_visit" -> "Rep visit": vocabulary codes as people read them (the value sent stays the code).
  function human(v) {
    var s = String(v).replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }
  function humanOptions(values) {
    return values.map(function (v) { return typeof v === "string" ? { value: v, label: human(v) } : v; });
  }

  function cmpControls(obj, key, row, label, defaults, changed, integer) {
    var current = obj[key] || defaults;
    var opSel = select(CMP_OPS.map(function (o) { return { value: o, label: OP_LABELS[o] || o }; }), current.op, label + " comparison", key + "-op");
    var val = input("number", current.value, label + " value", key + "-value");
    val.min = "0"; if (integer) val.step = "1";
    var update = function () {
      obj[key] = { op: opSel.value, value: val.value === "" ? 0 : Number(val.value) };
      changed();
    };
    opSel.addEventListener("change", update); val.addEventListener("change", update);
    row.appendChild(labelled(label + " ", opSel)); row.appendChild(labelled("", val));
  }

  Editor.prototype.eventControls = function (node, row, changed) {
    if (!node.event || typeof node.event !== "object") node.event = {};
    EVENT_KEYS.forEach(function (k) {
      var control;
      var values = (vocab.event || {})[k] || [];
      if (values.length) {
        control = select([{ value: "", label: "any " + k }].concat(humanOptions(values)), node.event[k] || "", "Event " + k, "event-" + k);
      } else {
        control = input("text", node.event[k] || "", "Event " + k + " (blank: any)", "event-" + k);
        control.size = 12;
      }
      control.addEventListener("change", function () {
        if (control.value) node.event[k] = control.value; else delete node.event[k];
        changed();
      });
      row.appendChild(labelled(k + " ", control));
    });
    var days = input("number", node.within_days, "Within days (blank: all time)", "within_days");
    days.min = "1"; days.step = "1"; days.style.width = "5rem";
    days.addEventListener("change", function () {
      if (days.value === "") delete node.within_days; else node.within_days = parseInt(days.value, 10);
      changed();
    });
    row.appendChild(labelled("within days ", days));
    cmpControls(node, "count", row, "count", { op: "gte", value: 1 }, changed, true);
  };

  Editor.prototype.rxControls = function (node, row, changed) {
    if (!node.rx || typeof node.rx !== "object") node.rx = {};
    var product = input("text", node.rx.product || "", "Product (blank: all products)", "rx-product");
    product.size = 12;
    product.addEventListener("change", function () {
      if (product.value.trim()) node.rx.product = product.value.trim(); else delete node.rx.product;
      changed();
    });
    row.appendChild(labelled("product ", product));
    var metric = select(vocab.metrics || ["nrx", "trx", "new_patient_starts"], node.metric, "Metric", "metric");
    metric.addEventListener("change", function () { node.metric = metric.value; changed(); });
    row.appendChild(labelled("metric ", metric));
    var months = input("number", node.months, "Months (blank: all)", "months");
    months.min = "1"; months.step = "1"; months.style.width = "4.5rem";
    months.addEventListener("change", function () {
      if (months.value === "") delete node.months; else node.months = parseInt(months.value, 10);
      changed();
    });
    row.appendChild(labelled("months ", months));
    cmpControls(node, "sum", row, "sum", { op: "gte", value: 1 }, changed, true);
  };

  // --- errors at the offending node -------------------------------------------
  var editors = [];

  function showErrors(errors) {
    document.querySelectorAll(".rb-error").forEach(function (n) { n.classList.remove("rb-error"); });
    document.querySelectorAll(".rb-error-msg").forEach(function (n) { n.remove(); });
    (errors || []).forEach(function (err) {
      var path = err.path || "";
      var best = null, bestLen = -1;
      document.querySelectorAll("[data-rule-editor] [data-path]").forEach(function (n) {
        var p = n.getAttribute("data-path");
        var next = path.charAt(p.length);
        if (path.indexOf(p) === 0 && (next === "" || next === "." || next === "[") && p.length > bestLen) {
          best = n; bestLen = p.length;
        }
      });
      var text = err.message;
      if (!best) {
        // No node to point at (the rule's root, say): show it at the top of that editor.
        best = document.querySelector('[data-rule-editor][data-name="' + path.split(/[.\[]/)[0] + '"]');
        if (!best) return;
        text = (err.where ? err.where + ": " : "") + err.message;
        best.insertBefore(el("div", { className: "rb-error-msg", role: "alert", text: text }), best.firstChild);
        return;
      }
      best.classList.add("rb-error");
      var msg = el("div", { className: "rb-error-msg", role: "alert", text: text });
      if (best.classList.contains("rb-group")) best.insertBefore(msg, best.children[1] || null);
      else best.appendChild(msg);
    });
  }

  function init() {
    document.querySelectorAll("[data-rule-editor]").forEach(function (host) {
      if (!host.dataset.ready) { host.dataset.ready = "1"; editors.push(new Editor(host)); }
    });
    showErrors(readJSON("form-rule-errors", []));
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", function () {
    var errs = readJSON("rule-errors", null);
    if (errs !== null) showErrors(errs);
  });
  window.RuleBuilder = { showErrors: showErrors, editors: editors };
})();
