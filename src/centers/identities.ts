import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './registry';

/**
 * Key and certificate files of a certs-dev identity (certs-dev/index.json), by id: the center receipt
 * signers (`center-gd` …) and the TLS client identities of the HTTPS connector.
 */
const indexSchema = z.object({
  identities: z.array(
    z.object({
      id: z.string(),
      role: z.string(),
      keyPath: z.string(),
      certPath: z.string(),
      chainPath: z.string().nullable().optional(),
    }),
  ),
});

export interface IdentityFiles {
  id: string;
  role: string;
  keyPath: string;
  certPath: string;
  chainPath?: string;
}

export const DEFAULT_CERTS_DIR = join(REPO_ROOT, 'certs-dev');

export function identityFiles(id: string, certsDir: string = DEFAULT_CERTS_DIR): IdentityFiles {
  const dir = resolve(REPO_ROOT, certsDir);
  const indexPath = join(dir, 'index.json');
  let parsed: z.infer<typeof indexSchema>;
  try {
    parsed = indexSchema.parse(JSON.parse(readFileSync(indexPath, 'utf8')));
  } catch (err) {
    throw new Error(`cannot read certificate index ${indexPath}: ${(err as Error).message}`, { cause: err });
  }
  const hit = parsed.identities.find((i) => i.id === id);
  if (!hit) throw new Error(`${indexPath} has no identity "${id}"`);
  return {
    id: hit.id,
    role: hit.role,
    keyPath: join(dir, hit.keyPath),
    certPath: join(dir, hit.certPath),
    ...(hit.chainPath ? { chainPath: join(dir, hit.chainPath) } : {}),
  };
}
