import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
  optional?: boolean;
}

/** Every package `npm ci` installs, as the lockfile records it, with the Node versions it declares. */
function lockedPackages(lockfile: string): [string, LockedPackage][] {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as { packages: Record<string, LockedPackage> };
  return Object.entries(lock.packages).filter(([name]) => name !== '');
}

describe('the install', () => {
  // npm prints an EBADENGINE warning for each package whose `engines.node` excludes the running Node;
  // such a package may use what this Node lacks. The project promises Node 20.19 and newer (CI runs 20 and 24).
  it('holds only packages that support the Node running the suite', () => {
    const unsupported = lockedPackages('package-lock.json')
      .filter(([, pkg]) => {
        const range = !Array.isArray(pkg.engines) ? pkg.engines?.node : undefined;
        return (
          range !== undefined && !semver.satisfies(process.versions.node, range, { includePrerelease: true })
        );
      })
      .map(
        ([name, pkg]) =>
          `${name.replace(/^.*node_modules\//, '')}@${pkg.version} needs node ${(pkg.engines as { node: string }).node}`,
      );
    expect(unsupported, `on Node ${process.versions.node}`).toEqual([]);
  });

  it('declares the Node versions it supports', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    expect(manifest.engines.node).toBe('>=20.19');
    expect(semver.satisfies(process.versions.node, manifest.engines.node)).toBe(true);
  });
});
