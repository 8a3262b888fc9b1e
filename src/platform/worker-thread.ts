// Starting a module of ours as a worker thread, from a build or from a checkout.
import { Worker } from 'node:worker_threads';

/**
 * Starts the module `name` (without extension) next to `base` (the caller's import.meta.url): the
 * compiled .js file in a build; from a checkout run through tsx (tests, benches of the source),
 * the TypeScript file, loaded through tsx's loader, which a worker thread does not inherit from
 * its parent.
 */
export function startModuleThread(base: string, name: string, workerData: unknown): Worker {
  const fromSource = base.endsWith('.ts');
  const entry = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, base);
  if (!fromSource) return new Worker(entry, { workerData });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
