import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repositoryDir = join(packageDir, '..', '..');
let copyRoot: string;
let copy: string;

/** Runs the generator of the copy, as `pnpm contract:check` / `contract:generate` run the real one. */
function generate(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(copy, 'scripts/generate.ts'), ...args], { cwd: packageDir, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

// The check runs on a copy of the package, so editing the document here cannot disturb other tests.
beforeAll(() => {
  copyRoot = mkdtempSync(join(tmpdir(), 'hexa-contract-'));
  copy = join(copyRoot, 'packages', 'contract');
  mkdirSync(copy, { recursive: true });
  for (const entry of ['openapi.yaml', 'package.json', 'scripts', 'src']) cpSync(join(packageDir, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(packageDir, 'node_modules'), join(copy, 'node_modules'), 'dir');
  mkdirSync(join(copyRoot, 'docs'));
  cpSync(join(repositoryDir, 'docs', 'permissions.md'), join(copyRoot, 'docs', 'permissions.md'));
});
afterAll(() => rmSync(copyRoot, { recursive: true, force: true }));

describe('the contract check', () => {
  it('passes on the committed document and generated files', () => {
    expect(generate('--check')).toEqual({ status: 0, output: expect.stringContaining('generated files are up to date') });
  });

  it('fails when the document is edited without regenerating, even by a description, and passes after regenerating', () => {
    const document = join(copy, 'openapi.yaml');
    writeFileSync(document, readFileSync(document, 'utf8').replace(/^(\s+title: .*)$/m, '$1 (edited)'));
    const stale = generate('--check');
    expect(stale.status).toBe(1);
    expect(stale.output).toContain('Stale generated files');
    expect(stale.output).toContain(join('src', 'generated', 'openapi.ts'));

    expect(generate().status).toBe(0);
    expect(generate('--check').status).toBe(0);
  });

  it('fails when a generated file is edited by hand', () => {
    const operations = join(copy, 'src', 'generated', 'operations.ts');
    writeFileSync(operations, `${readFileSync(operations, 'utf8')}// hand edit\n`);
    const stale = generate('--check');
    expect(stale.status).toBe(1);
    expect(stale.output).toContain(join('src', 'generated', 'operations.ts'));
  });

  describe('keeps docs/permissions.md in step with the matrix', () => {
    const permissionsDoc = () => join(copyRoot, 'docs', 'permissions.md');
    const matrix = () => join(copy, 'src', 'permissions.ts');
    const staleFiles = (output: string) => output.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim());

    it('fails naming docs/permissions.md alone when it is edited by hand', () => {
      expect(generate().status).toBe(0);
      const original = readFileSync(permissionsDoc(), 'utf8');
      // A reader "fixing" the table: Viewers may write files.
      writeFileSync(permissionsDoc(), original.replace('| files: write (`files:write`) | ❌ |', '| files: write (`files:write`) | ✅ |'));
      expect(readFileSync(permissionsDoc(), 'utf8')).not.toBe(original);
      const stale = generate('--check');
      expect(stale.status).toBe(1);
      expect(staleFiles(stale.output)).toEqual([join(copyRoot, 'docs', 'permissions.md')]);
      writeFileSync(permissionsDoc(), original);
      expect(generate('--check').status).toBe(0);
    });

    it('fails naming docs/permissions.md alone when the matrix changes, and passes after regenerating', () => {
      expect(generate().status).toBe(0);
      const original = readFileSync(matrix(), 'utf8');
      const edited = original.replace("'files:write': { description: 'files: write', roles: editors }", "'files:write': { description: 'files: write', roles: admins }");
      expect(edited).not.toBe(original);
      writeFileSync(matrix(), edited);
      const stale = generate('--check');
      expect(stale.status).toBe(1);
      expect(staleFiles(stale.output)).toEqual([join(copyRoot, 'docs', 'permissions.md')]);

      expect(generate().status).toBe(0);
      expect(readFileSync(permissionsDoc(), 'utf8')).toContain('| files: write (`files:write`) | ❌ | ❌ | ✅ |');
      writeFileSync(matrix(), original);
      expect(generate().status).toBe(0);
    });
  });

  it('fails when a schema has a keyword no validator knows, such as an unquoted comma in a YAML flow mapping makes', () => {
    const document = join(copy, 'openapi.yaml');
    const original = readFileSync(document, 'utf8');
    writeFileSync(document, original.replace("description: 'The home page, in Markdown.'", 'description: The home page, in Markdown.'));
    const broken = generate('--check');
    expect(broken.status).toBe(1);
    expect(broken.output).toContain('strict mode: unknown keyword: "in Markdown."');
    writeFileSync(document, original);
  });
});
