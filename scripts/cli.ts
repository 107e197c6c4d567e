/**
 * Shared by the operations scripts: a failure is one line on stderr and exit code 1, never a
 * stack trace.
 */

/** An expected failure: its message is what the user reads. */
export class CliError extends Error {
  override name = "CliError";
}

/** Runs a script body; prints `error.message` (one line) and sets exit code 1 on failure. */
export async function runCli(main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message.split("\n")[0]}\n`);
    process.exitCode = 1;
  }
}

/** The value after `--flag` (or `--flag=value`), if present. */
export function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === flag) return args[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}
