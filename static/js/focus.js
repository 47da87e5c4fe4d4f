/* Keyboard focus after a page load or an htmx swap (no build step).
 * - A page answering a form with errors: focus moves to the error list, which
 *   names the problems (it has tabindex="-1" and role="alert").
 * - An htmx form or button whose answer shows errors: the same, in the swapped part.
 * - An htmx swap that removed the focused control (a panel redrawn): focus moves
 *   to the swapped part instead of falling back to the top of the page.
 * Swaps the user did not ask for (a live preview, polling) leave focus alone.
 */
(function () {
  "use strict";
  var ERRORS = '.errors[tabindex="-1"]';

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("main " + ERRORS);
    if (box) box.focus();
  });

  document.addEventListener("htmx:afterSwap", function (evt) {
    var elt = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    var asked = elt && (elt.tagName === "FORM" || elt.tagName === "BUTTON");
    var target = evt.detail.target;
    if (!target || !document.contains(target)) target = document.getElementById(target && target.id);
    if (!target) return;
    var box = target.matches(ERRORS) ? target : target.querySelector(ERRORS);
    if (asked && box) { box.focus(); return; }
    var active = document.activeElement;
    if (asked && (!active || active === document.body)) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
})();
