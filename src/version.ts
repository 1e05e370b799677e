/**
 * The product's version, from package.json (one directory above both src/ and dist/), read once:
 * `itportal --version`, and the product version the wire formats name (CEF/LEEF headers, OCSF
 * metadata.product.version, ECS service.version).
 */
import fs from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const PRODUCT_VERSION = readVersion();
