/** The repository's root, for tests that read or run its files (bins, bundles, examples, node_modules). */
import * as path from 'path';

export const REPO_ROOT = path.join(__dirname, '..', '..');
