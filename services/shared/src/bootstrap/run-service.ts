/**
 * Runs a service's composition root: a failed start prints one line naming the
 * service and the cause (the config error lists every bad key) and exits 1,
 * rather than carrying on half-started.
 */
export function runService(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${name} failed to start: ${detail}\n`);
    process.exit(1);
  });
}
