// Coffer payment page: names the card brand while the payer types the number, and says at once
// when the account does not accept it. Progressive enhancement only: the server validates
// everything again, and the page works without this script. It reads the number field and
// writes text (never HTML) into one hint element. It sends nothing anywhere and stores nothing.
// The prefix table mirrors src/connectors/card-brand.ts; a test holds the two together.
/* global document, module */
(function () {
  'use strict';
  var RULES = [
    ['visa', [['4', '4']]],
    ['master-card', [['51', '55'], ['2221', '2720']]],
    ['american-express', [['34', '34'], ['37', '37']]],
    ['diners-club', [['300', '305'], ['36', '36'], ['38', '39']]],
    ['discover', [['6011', '6011'], ['644', '649'], ['65', '65']]],
    ['jcb', [['2131', '2131'], ['1800', '1800'], ['3528', '3589']]],
    ['unionpay', [['62', '62'], ['81', '81']]],
    ['maestro', [['493698', '493698'], ['500000', '504174'], ['504176', '506698'], ['506779', '508999'], ['56', '59'], ['63', '63'], ['67', '67']]]
  ];
  var LABELS = {
    'visa': 'Visa',
    'master-card': 'Mastercard',
    'american-express': 'American Express',
    'diners-club': 'Diners Club',
    'discover': 'Discover',
    'jcb': 'JCB',
    'unionpay': 'Union Pay',
    'maestro': 'Maestro'
  };

  function detectBrand(digits) {
    var best = null;
    var bestLength = 0;
    for (var i = 0; i < RULES.length; i++) {
      var ranges = RULES[i][1];
      for (var j = 0; j < ranges.length; j++) {
        var from = ranges[j][0];
        var to = ranges[j][1];
        var n = from.length;
        if (digits.length < n) continue;
        var head = digits.slice(0, n);
        if (head >= from && head <= to && n > bestLength) {
          best = RULES[i][0];
          bestLength = n;
        }
      }
    }
    return best;
  }

  // Exposed for the consistency test, which runs this file outside a browser.
  if (typeof module === 'object' && module.exports) {
    module.exports = { detectBrand: detectBrand };
    return;
  }

  var input = document.getElementById('cardNo');
  var hint = document.getElementById('card-brand');
  if (!input || !hint) return;
  var accepted = (input.getAttribute('data-accepted-brands') || '').split(' ');
  var brandTemplate = input.getAttribute('data-brand-template') || '%BRAND%';
  var refusedTemplate = input.getAttribute('data-not-accepted-template') || '%BRAND%';

  function update() {
    var digits = input.value.replace(/\s+/g, '');
    var brand = /^\d+$/.test(digits) ? detectBrand(digits) : null;
    if (!brand) {
      hint.textContent = '';
      hint.removeAttribute('data-brand');
      return;
    }
    var label = LABELS[brand];
    var ok = accepted.indexOf(brand) >= 0;
    hint.textContent = (ok ? brandTemplate : refusedTemplate).replace('%BRAND%', label);
    hint.setAttribute('data-brand', brand);
    hint.className = ok ? 'hint card-brand' : 'error-message card-brand';
  }

  input.addEventListener('input', update);
  update();
})();
