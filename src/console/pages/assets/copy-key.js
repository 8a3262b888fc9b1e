// Copies a newly shown API key to the clipboard (inventoried in console.pages.ts). The page works
// without it: the key sits in a readonly input the user can select. This only shows the button
// where the Clipboard API exists, copies the input's value, and says so in a live region. It
// writes no HTML (textContent only), stores nothing and talks to no other origin.
/* global document, navigator */
(function () {
  'use strict';
  var buttons = document.querySelectorAll('button[data-copy-target]');
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute('data-copy-target'));
    var status = document.getElementById(button.getAttribute('data-copy-status'));
    if (!field || !navigator.clipboard || !navigator.clipboard.writeText) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          if (status) status.textContent = 'Copied. Paste it where your service keeps its secrets.';
        },
        function () {
          field.select();
          if (status) status.textContent = 'Your browser did not allow copying. The key is selected: copy it yourself.';
        },
      );
    });
  });
})();
