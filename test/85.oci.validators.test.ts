// lxzone-runc's schemas compiled at build time (scripts/build-oci-validators.mjs
// → dist/oci/validators.cjs, src/oci/validators.ts): each built validator
// was compiled from the schema the built code holds, and answers every
// document as ajv compiling that schema at run time does (the result and the
// first error, which is what lxzone-runc reports); a built file whose source
// differs from the schema is not used. Without a build the suite is skipped,
// saying so; under CI (LXZONE_CI=1) it fails.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { lazySchema } from '../src/lazy-schema.js';
import { describeBuilt } from './support/skip.js';
import { repoRoot } from './support/zones.js';

const built = join(repoRoot, 'dist', 'oci', 'validators.cjs');
const notBuilt = existsSync(built) ? undefined : `${built} is missing: npm run build`;

/** Documents each schema must answer alike: valid ones and each kind of error. */
const DOCS: Record<string, unknown[]> = {
  config: [
    { ociVersion: '1.0.2' },
    { ociVersion: '1.1.0', process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['sh'], env: ['A=b'] }, root: { path: 'rootfs' } },
    { ociVersion: 'x' },
    {},
    { ociVersion: '1.0.2', process: { cwd: 'relative', user: { uid: 0, gid: 0 } } },
    { ociVersion: '1.0.2', process: { cwd: '/', user: { uid: -1, gid: 0 } } },
    { ociVersion: '1.0.2', linux: { namespaces: [{ type: 'bogus' }], maskedPaths: ['rel'] } },
    { ociVersion: '1.0.2', hooks: { prestart: [{ path: 'x', timeout: 0 }] } },
    { ociVersion: '1.0.2', mounts: [{ destination: '' }] },
    'not an object',
  ],
  process: [
    { cwd: '/', user: { uid: 0, gid: 0 }, args: ['true'] },
    { cwd: '/', user: { uid: 0, gid: 0 } },
    { cwd: '/', user: { uid: 0, gid: 0 }, args: [] },
    { cwd: '/', user: { uid: 0, gid: 0 }, args: ['x'], capabilities: { bounding: ['NOT_A_CAP'] } },
  ],
  resources: [
    { memory: { limit: 1048576 }, pids: { limit: 10 } },
    { pids: {} },
    { cpu: { shares: -1 } },
    { devices: [{ access: 'rwm' }] },
  ],
};

describeBuilt(notBuilt, 'lxzone-runc built schema validators', () => {
  it('each is compiled from the built schema and answers as ajv does', async () => {
    const m = createRequire(import.meta.url)(built) as { sources: Record<string, string>; validators: Record<string, (d: unknown) => boolean> };
    const spec = (await import(pathToFileURL(join(repoRoot, 'dist', 'oci', 'spec.js')).href)) as { OCI_SCHEMAS: Record<string, object> };
    const { OCI_SCHEMA_OPTIONS, schemaSource } = (await import(pathToFileURL(join(repoRoot, 'dist', 'oci', 'validators.js')).href)) as typeof import('../src/oci/validators.js');
    expect(Object.keys(m.validators).sort()).toEqual(Object.keys(spec.OCI_SCHEMAS).sort());
    for (const [name, schema] of Object.entries(spec.OCI_SCHEMAS)) {
      expect(m.sources[name], name).toBe(schemaSource(schema));
      const pre = m.validators[name] as ((d: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
      const ajv = lazySchema(schema, OCI_SCHEMA_OPTIONS);
      for (const doc of DOCS[name]!) {
        const want = ajv(doc);
        expect(pre(doc), `${name} ${JSON.stringify(doc)}`).toBe(want);
        if (!want) expect(pre.errors?.[0], `${name} ${JSON.stringify(doc)}`).toEqual(expect.objectContaining({ instancePath: ajv.errors![0]!.instancePath, message: ajv.errors![0]!.message }));
      }
    }
  });

  it('a validator whose built source is another schema is not used: ajv compiles the schema given', async () => {
    const { builtValidator } = (await import(pathToFileURL(join(repoRoot, 'dist', 'oci', 'validators.js')).href)) as typeof import('../src/oci/validators.js');
    // Named 'config' (a built name) but a different schema: only this schema's rule applies.
    const v = builtValidator('config', { type: 'object', required: ['onlyThis'] });
    expect(v({ ociVersion: '1.0.2' })).toBe(false);
    expect(v.errors?.[0]?.message).toMatch(/onlyThis/);
    expect(v({ onlyThis: 1 })).toBe(true);
  });
});
