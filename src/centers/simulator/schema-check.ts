import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXPORT_MESSAGE_TYPES, type MessageType } from '../../domain/message-types';
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
    const child = spawn('xmllint', ['--noout', '--nonet', '--schema', xsdPath, '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
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

/**
 * Fallback when the official schemas are not available: the envelope rules that matter most
 * (customs-domain §1) — root guid (36, upper case) and version, a head guid, BaseTransfer with
 * copCode/copName/dxpMode "DXP"/dxpId. Returns the problems found (empty = passes).
 */
export function structuralProblems(xml: string): string[] {
  const problems: string[] = [];
  const root = /^(?:<\?xml[^>]*\?>\s*)?<([A-Za-z_][\w.-]*:)?(CEB\d{3}Message)\s([^>]*)>/.exec(
    xml.replace(/^\uFEFF/, ''),
  );
  if (!root) return ['the document does not start with a CEBxxxMessage root element'];
  const attrs = root[3] ?? '';
  const guid = /\sguid="([^"]*)"/.exec(' ' + attrs)?.[1];
  if (!guid || !/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/.test(guid))
    problems.push(`root guid "${guid ?? ''}" is not 36 upper-case characters`);
  if (!/\sversion="1\.0"/.test(' ' + attrs)) problems.push('root version must be "1.0"');
  const p = root[1] ?? '';
  const base = new RegExp(`<${p}BaseTransfer>([\\s\\S]*?)</${p}BaseTransfer>`).exec(xml)?.[1];
  if (base === undefined) problems.push('BaseTransfer is missing');
  else {
    for (const field of ['copCode', 'copName', 'dxpId'])
      if (!new RegExp(`<${p}${field}>[^<]+</${p}${field}>`).test(base))
        problems.push(`BaseTransfer/${field} is missing`);
    if (!new RegExp(`<${p}dxpMode>DXP</${p}dxpMode>`).test(base)) problems.push('BaseTransfer/dxpMode must be "DXP"');
  }
  return problems;
}
