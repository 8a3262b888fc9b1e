// The operator's network allow-list commands, as named operations.
import type { AppContext } from '../platform/context.js';
import type { AccountMode } from '../store/schema.js';
import { allowRanges, listRanges, removeRanges } from './network.service.js';

type Args = Record<string, unknown>;
type Operation = (ctx: AppContext, args: Args, actor: string) => Promise<unknown>;

const text = (args: Args, name: string): string => {
  const value = args[name];
  if (typeof value !== 'string') throw new TypeError(`operation argument ${name} must be a string`);
  return value;
};
const list = (args: Args, name: string): string[] => (Array.isArray(args[name]) ? (args[name] as unknown[]).map(String) : []);

export const networkOperations: Record<string, Operation> = {
  'network.allow': (ctx, args, actor) =>
    allowRanges(ctx, { serviceId: text(args, 'serviceId'), mode: text(args, 'mode') as AccountMode, purpose: text(args, 'purpose'), cidrs: list(args, 'cidrs'), by: actor }),
  'network.remove': (ctx, args, actor) =>
    removeRanges(ctx, { serviceId: text(args, 'serviceId'), mode: text(args, 'mode') as AccountMode, purpose: text(args, 'purpose'), cidrs: list(args, 'cidrs'), by: actor }),
  'network.list': (ctx, args) =>
    listRanges(ctx, { serviceId: text(args, 'serviceId'), mode: text(args, 'mode') as AccountMode, purpose: typeof args.purpose === 'string' ? args.purpose : undefined }),
};
