// The console's expected failures, in the same CofferError shape as the API's (C06xx codes).
import { CofferError } from '../platform/errors.js';

export const consoleErrors = {
  /** No session, or one that ended (idle, expired, signed out, user disabled). */
  signInRequired: () => new CofferError('C0601', 401, 'Sign in to continue'),
  /** The user's role in this service does not allow the action. */
  forbidden: () => new CofferError('C0602', 403, 'You do not have permission to do this'),
  /** The action needs the second factor again (step-up). */
  stepUpRequired: () => new CofferError('C0603', 403, 'Confirm it is you with your second factor to continue'),
  /** The session has not finished signing in (MFA not given or not enrolled). */
  mfaRequired: () => new CofferError('C0604', 403, 'Finish signing in with your second factor'),
  invalidCode: () => new CofferError('C0605', 422, 'The code is not right. Check it and try again', { field: 'code' }),
  linkInvalid: () => new CofferError('C0606', 410, 'This link has expired or has already been used'),
};
