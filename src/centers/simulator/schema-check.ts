import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXPORT_MESSAGE_TYPES, type MessageType } from '../../mapping/message-types';
import { REPO_ROOT } from '../registry';

/**
 * Schema validation of incoming declarations, as the E-port does before anything else. The official
 * schemas are not part of the project (they live in ../shared/ceb-2022 on development machines); when they
 * are missing the simulator falls back to a structural check and says so once in its log.
 */
export const OFFICIAL_CEB_DIR = resolve(REPO_ROOT, '..', 'shared', 'ceb-2022');

export function officialXsdDir(): string | null {
  const dir = join(OFFICIAL_CEB_DIR, 'xsd');
  return existsSync(join(dir, 'ceb-import-2022.xsd')) ? dir : null;
}

export function xsdFor(type: MessageType, xsdDir: string): string {
  return join(xsdDir, EXPORT_MESSAGE_TYPES.includes(type) ? 'ceb-export-2022.xsd' : 'ceb-import-2022.xsd');
}

export interface SchemaResult {
  ok: boolean;
  /** xmllint's messages (first few lines) when not ok. */
  errors: string[];
}

/** Validates with `xmllint --schema` (document on stdin). */
export function validateWithXmllint(xml: string, xsdPath: string, timeoutMs = 15000): Promise<SchemaResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('xmllint', ['--noout', '--nonet', '--schema', xsdPath, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`xmllint could not run: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) return resolvePromise({ ok: true, errors: [] });
      const errors = stderr
        .split('\n')
        .map((l) => l.replace(/^-:\d+: /, '').trim())
        .filter((l) => l && !/ fails to validate$/.test(l))
        .slice(0, 5);
      resolvePromise({ ok: false, errors: errors.length > 0 ? errors : [`xmllint exited with ${code}`] });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(xml);
  });
}
