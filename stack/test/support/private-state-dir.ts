import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Import this before anything of stack/src: it points ECOM_STATE_DIR at a fresh folder of its own,
 * so the processes a spec starts keep their pid files and logs away from the stack's.
 */
export const privateStateDir = mkdtempSync(path.join(tmpdir(), 'ecom-spec-'));
process.env.ECOM_STATE_DIR = privateStateDir;
