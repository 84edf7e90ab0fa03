/**
 * The environment of a server the tests run as a child process: only what it is given, so a
 * developer's own DATABASE_URL or NODE_ENV cannot leak into it, plus PATH and whatever sets the
 * process clock (libfaketime's LD_PRELOAD and FAKETIME*), so the child keeps the test's own time
 * when the suite is run on a shifted clock (tokens the test signs are then valid for the child too).
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const inherited = Object.entries(process.env).filter(
    ([name, value]) =>
      value !== undefined && (name === 'PATH' || name === 'LD_PRELOAD' || name.startsWith('FAKETIME')),
  );
  return { ...Object.fromEntries(inherited as [string, string][]), ...env };
}
