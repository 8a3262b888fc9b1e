// Where a module's templates and static files are: beside the module, in src/ when run from
// source and in dist/ when built (scripts/build.mjs copies every non-TypeScript file under src/
// to the same place under dist/). A build never reaches back into src/: dist/ runs on its own.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function besideModule(moduleUrl: string, folder: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const direct = join(here, folder);
  if (existsSync(direct)) return direct;
  throw new TypeError(`no ${folder} folder beside ${here} (a build made without npm run build does not carry templates and assets)`);
}
