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
