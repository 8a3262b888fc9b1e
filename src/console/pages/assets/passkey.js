// Passkeys need the browser's WebAuthn API, so this is the one console script (inventoried in
// console.pages.ts). It reads the server's options from the form's data attribute, asks the
// browser for a credential, puts the JSON answer in a hidden field and submits the form. It
// writes no HTML (the CSP enforces Trusted Types) and talks to no other origin.
/* global document, window, navigator, PublicKeyCredential */
(function () {
  'use strict';
  var forms = document.querySelectorAll('form[data-webauthn]');
  Array.prototype.forEach.call(forms, function (form) {
    var button = form.querySelector('[data-webauthn-start]');
    var field = form.querySelector('input[name=webauthn_response]');
    var status = form.querySelector('[data-webauthn-status]');
    if (!button || !field || !window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) return;
    button.hidden = false;
    button.addEventListener('click', function (event) {
      event.preventDefault();
      var options = JSON.parse(form.getAttribute('data-webauthn-options'));
      var creating = form.getAttribute('data-webauthn') === 'create';
      var request = creating
        ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      request.then(
        function (credential) {
          field.value = JSON.stringify(credential.toJSON());
          form.submit();
        },
        function () {
          if (status) status.textContent = 'The passkey was not used. Try again, or use another way to sign in.';
        },
      );
    });
  });
})();
