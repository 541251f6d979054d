/**
 * Compiles the long-running processes of every service in the registry (the
 * server, and the worker where there is one) to JavaScript bundles:
 * `services/<name>/dist/server.mjs`, `worker.mjs`. `npm start` runs these, as
 * production would, rather than TypeScript through the tsx loader, which costs
 * each process tens of megabytes and a thread.
 *
 * The platform's own packages (`@hexa/*`) are bundled in; every npm package
 * stays outside, imported from where it is installed, so that packages which
 * read their own files at run time (BullMQ's Lua scripts, pino's transports)
 * keep working.
 *
 *   pnpm build
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { serviceNames, serviceRegistry } from '@hexa/contract';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The bundle of each long-running process, by the process's name. */
export function bundles(): { name: string; entry: string; outfile: string }[] {
  return serviceNames.flatMap((service) =>
    (['server', ...(serviceRegistry[service].worker ? ['worker'] : [])] as const).map((kind) => ({
      name: kind === 'server' ? service : `${service}-worker`,
      entry: `services/${service}/src/${kind}.ts`,
      outfile: `services/${service}/dist/${kind}.mjs`,
    })),
  );
}

/** npm packages stay external, resolved to the exact file the service would import. */
const npmPackagesExternal: esbuild.Plugin = {
  name: 'npm-packages-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@hexa/') || args.path.startsWith('node:') || args.pluginData === 'resolving') return undefined;
      const resolved = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: 'resolving' });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
  },
};

/**
 * Writes a file whole or not at all (a temporary file renamed over it), and not
 * when it is unchanged: two instances started at once (the fault tests) may
 * build while the other's processes start from the same files.
 */
function writeAtomically(path: string, contents: Uint8Array): void {
  try {
    if (Buffer.from(readFileSync(path)).equals(Buffer.from(contents))) return;
  } catch {
    // not there yet
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

export async function build(): Promise<string[]> {
  const targets = bundles();
  await Promise.all(
    targets.map(async (target) => {
      const result = await esbuild.build({
        write: false,
        absWorkingDir: root,
        entryPoints: [target.entry],
        outfile: target.outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        sourcemap: 'linked',
        logLevel: 'warning',
        plugins: [npmPackagesExternal],
      });
      for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
    }),
  );
  return targets.map((target) => target.outfile);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await build();
  console.log(`build: ${built.join(', ')}`);
}
