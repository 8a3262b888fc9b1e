// Messages every page shares (layout, error pages), in English and Welsh.
import type { Catalogues } from './i18n.js';

const en = {
  'layout.skipLink': 'Skip to main content',
  'layout.errorPrefix': 'Error:',
  'layout.testBanner': 'This is a test payment: no money will be taken. Use one of the test card numbers.',
  'layout.footer': 'Payments by Coffer',
  'layout.serviceFallback': 'Pay',
  'error.title': 'Sorry, there is a problem',
  'error.not_found.title': 'Page not found',
  'error.not_found.body': 'If you typed the web address, check it is correct. If you followed a link from a service, go back to the service and start again.',
  'error.session_expired.title': 'Your session has ended',
  'error.session_expired.body': 'For your security, payment pages only work in the browser that opened the payment. No money has been taken. Go back to the service to start the payment again.',
  'error.forbidden.title': 'This page cannot be used',
  'error.forbidden.body': 'The form could not be accepted. No money has been taken. Go back to the service to start the payment again.',
  'error.bad_request.title': 'There was a problem with your request',
  'error.bad_request.body': 'The information sent could not be read. No money has been taken.',
  'error.too_many.title': 'Too many attempts',
  'error.too_many.body': 'There have been too many attempts to pay from this device or with this card. No money has been taken. Please try again later.',
  'error.error.title': 'Sorry, there is a problem with the service',
  'error.error.body': 'Try again later. No money has been taken.',
  'error.reference': 'If you contact the service, quote this reference: {requestId}',
} as const;

const cy: Record<keyof typeof en, string> = {
  'layout.skipLink': 'Neidio i’r prif gynnwys',
  'layout.errorPrefix': 'Gwall:',
  'layout.testBanner': 'Taliad prawf yw hwn: ni fydd arian yn cael ei gymryd. Defnyddiwch un o’r rhifau cerdyn prawf.',
  'layout.footer': 'Taliadau gan Coffer',
  'layout.serviceFallback': 'Talu',
  'error.title': 'Mae’n ddrwg gennym, mae problem',
  'error.not_found.title': 'Heb ddod o hyd i’r dudalen',
  'error.not_found.body': 'Os gwnaethoch deipio’r cyfeiriad gwe, gwiriwch ei fod yn gywir. Os daethoch yma drwy ddolen gan wasanaeth, ewch yn ôl i’r gwasanaeth a dechrau eto.',
  'error.session_expired.title': 'Mae eich sesiwn wedi dod i ben',
  'error.session_expired.body': 'Er eich diogelwch, dim ond yn y porwr a agorodd y taliad y mae tudalennau talu yn gweithio. Nid oes arian wedi cael ei gymryd. Ewch yn ôl i’r gwasanaeth i ddechrau’r taliad eto.',
  'error.forbidden.title': 'Nid oes modd defnyddio’r dudalen hon',
  'error.forbidden.body': 'Nid oedd modd derbyn y ffurflen. Nid oes arian wedi cael ei gymryd. Ewch yn ôl i’r gwasanaeth i ddechrau’r taliad eto.',
  'error.bad_request.title': 'Roedd problem gyda’ch cais',
  'error.bad_request.body': 'Nid oedd modd darllen yr wybodaeth a anfonwyd. Nid oes arian wedi cael ei gymryd.',
  'error.too_many.title': 'Gormod o ymdrechion',
  'error.too_many.body': 'Bu gormod o ymdrechion i dalu o’r ddyfais hon neu gyda’r cerdyn hwn. Nid oes arian wedi cael ei gymryd. Rhowch gynnig arall arni yn nes ymlaen.',
  'error.error.title': 'Mae’n ddrwg gennym, mae problem gyda’r gwasanaeth',
  'error.error.body': 'Rhowch gynnig arall arni yn nes ymlaen. Nid oes arian wedi cael ei gymryd.',
  'error.reference': 'Os byddwch yn cysylltu â’r gwasanaeth, dyfynnwch y cyfeirnod hwn: {requestId}',
};

export const webCatalogues: Catalogues = { en, cy };
