/**
 * The page's only script, served as /admin/assets/copy-<hash>.js (no inline script, so the CSP
 * can say script-src 'self'). Copy buttons are hidden until this runs: without JavaScript the
 * email and role are still on the page as selectable text. The result is announced through a
 * polite live region for screen readers.
 */
export const COPY_SCRIPT = `"use strict";
(function () {
  var status = document.getElementById("copy-status");
  var buttons = document.querySelectorAll("button[data-copy]");
  if (!navigator.clipboard) return;
  for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target && target.closest ? target.closest("button[data-copy]") : null;
    if (!button) return;
    var text = button.getAttribute("data-copy") || "";
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    function show(message, spoken) {
      button.textContent = message;
      if (status) status.textContent = spoken;
      setTimeout(function () { button.textContent = label; }, 1500);
    }
    navigator.clipboard.writeText(text).then(
      function () { show("Copied", "Copied " + text); },
      function () { show("Copy failed", "Could not copy; select the text instead"); }
    );
  });
})();
`;
