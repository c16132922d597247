/* searchapp: small progressive enhancements. The page works without this file. */
(function () {
  "use strict";

  var doc = document;
  doc.documentElement.classList.add("js");

  function searchBox() {
    return doc.getElementById("q");
  }

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // "/" focuses the search box (and selects its text); Esc leaves it.
  doc.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var box = searchBox();
    if (!box) return;
    if (event.key === "/" && !isTyping(doc.activeElement)) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && doc.activeElement === box) {
      box.blur();
    }
  });

  // Search suggestions: the search box becomes an ARIA combobox with a listbox under it.
  // Without this script the form simply submits. Text is inserted with textContent only.
  var KIND_LABELS = { title: "文章", pinyin: "拼音", term: "" };
  var DEBOUNCE_MS = 120;

  function setupSuggest(form) {
    var input = form.querySelector("input[type=search]");
    var endpoint = form.getAttribute("data-suggest-url");
    if (!input || !endpoint || !window.fetch) return;
    var listId = (input.id || "q") + "-suggestions";
    var list = doc.createElement("ul");
    list.id = listId;
    list.className = "suggest";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "搜索建议");
    list.hidden = true;
    form.appendChild(list);
    var status = doc.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    form.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var items = [];
    var active = -1;
    var timer = null;
    var sequence = 0;
    var pending = null; // the AbortController of the request in flight

    function isOpen() {
      return !list.hidden;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.children;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        if (options[index].scrollIntoView) options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(index) {
      var item = items[index];
      if (!item) return;
      close();
      if (item.kind === "title") {
        window.location.assign(item.url);
        return;
      }
      input.value = item.text;
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    }

    function option(item, index, typed) {
      var li = doc.createElement("li");
      li.id = listId + "-" + index;
      li.className = "suggest-item suggest-item--" + item.kind;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var text = doc.createElement("span");
      text.className = "suggest-text";
      // What was typed stays plain; the completion is bold.
      if (item.kind !== "title" && typed && item.text.indexOf(typed) === 0) {
        text.appendChild(doc.createTextNode(typed));
        var rest = doc.createElement("strong");
        rest.textContent = item.text.slice(typed.length);
        text.appendChild(rest);
      } else {
        text.textContent = item.text;
      }
      li.appendChild(text);
      var label = KIND_LABELS[item.kind];
      if (label) {
        var kind = doc.createElement("span");
        kind.className = "suggest-kind";
        kind.textContent = label;
        li.appendChild(kind);
      }
      // Keep the focus in the box while clicking, so the click is not lost to a blur.
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
      });
      li.addEventListener("click", function () {
        pick(index);
      });
      return li;
    }

    function render(suggestions, typed) {
      items = suggestions;
      while (list.firstChild) list.removeChild(list.firstChild);
      if (!items.length) {
        close();
        status.textContent = "";
        return;
      }
      for (var i = 0; i < items.length; i++) list.appendChild(option(items[i], i, typed));
      active = -1;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      input.removeAttribute("aria-activedescendant");
      status.textContent = "有 " + items.length + " 条建议，按上下方向键选择";
    }

    function load() {
      var typed = input.value;
      if (!typed.trim()) {
        render([], "");
        return;
      }
      var mine = ++sequence;
      if (pending) pending.abort();
      pending = window.AbortController ? new window.AbortController() : null;
      window
        .fetch(endpoint + "?q=" + encodeURIComponent(typed), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          signal: pending ? pending.signal : undefined,
        })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          // A newer keystroke has its own request: drop this answer.
          if (mine !== sequence || doc.activeElement !== input) return;
          render((data && data.suggestions) || [], typed);
        })
        .catch(function () {
          if (mine === sequence) render([], "");
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.isComposing) return; // an input method (pinyin IME) is composing
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!items.length) return;
        event.preventDefault();
        if (!isOpen()) {
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= items.length) next = -1;
        if (next < -1) next = items.length - 1;
        highlight(next);
      } else if (event.key === "Enter") {
        if (isOpen() && active >= 0) {
          event.preventDefault();
          pick(active);
        } else {
          close();
        }
      } else if (event.key === "Escape") {
        if (isOpen()) {
          event.preventDefault(); // keep the focus: only the list closes
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });
    function cancel() {
      window.clearTimeout(timer);
      sequence++;
      if (pending) pending.abort();
      pending = null;
    }

    input.addEventListener("blur", function () {
      cancel();
      close();
    });
    // Submitting leaves the page: no suggestion request should start or linger.
    form.addEventListener("submit", cancel);
  }

  var forms = doc.querySelectorAll("form[data-suggest-url]");
  for (var f = 0; f < forms.length; f++) setupSuggest(forms[f]);

  // The filter panel is a <details>: open on wide screens, collapsed on phones.
  var filters = doc.querySelector("[data-filters]");
  if (filters && window.matchMedia) {
    var wide = window.matchMedia("(min-width: 800px)");
    var sync = function () {
      if (wide.matches) filters.open = true;
    };
    sync();
    if (wide.addEventListener) wide.addEventListener("change", sync);
  }

  // Article page: jump from one highlighted match to the next.
  var next = doc.querySelector("[data-next-match]");
  var marks = doc.querySelectorAll(".article-body mark");
  if (next && marks.length) {
    var current = -1;
    next.hidden = false;
    next.addEventListener("click", function () {
      if (current >= 0) marks[current].classList.remove("is-current");
      current = (current + 1) % marks.length;
      var mark = marks[current];
      mark.classList.add("is-current");
      mark.scrollIntoView({ block: "center", behavior: "smooth" });
      next.textContent = "下一处匹配 ↓（" + (current + 1) + "/" + marks.length + "）";
    });
  }
})();
