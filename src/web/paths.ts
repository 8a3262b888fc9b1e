// Where a module's templates and static files are. They sit beside the source (src/<domain>/
// views, src/<domain>/assets); a build runs from dist/, so the lookup maps dist back to src.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export function besideModule(moduleUrl: string, folder: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const direct = join(here, folder);
  if (existsSync(direct)) return direct;
  const marker = `${sep}dist${sep}`;
  const at = here.lastIndexOf(marker);
  if (at >= 0) {
    const fromSource = join(here.slice(0, at), 'src', here.slice(at + marker.length), folder);
    if (existsSync(fromSource)) return fromSource;
  }
  throw new TypeError(`no ${folder} folder beside ${here}`);
}
