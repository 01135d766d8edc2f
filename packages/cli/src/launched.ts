/**
 * The CLI's side of the launcher (launcher.ts): when stderr is a pipe to the launcher standing in
 * for a terminal, stderr is treated as that terminal (progress bars, its width, resizes); and when
 * the launcher goes away (killed), the IPC channel closes and the CLI exits instead of running on
 * unseen. Without a launcher (tests, `node dist/bin.js`) nothing changes.
 */
export function adoptLauncher(): void {
  const columns = Number(process.env.SPINE_CLI_STDERR_TTY);
  delete process.env.SPINE_CLI_STDERR_TTY; // not for the CLI's own children (loader workers)
  const stderr = process.stderr as NodeJS.WriteStream & { isTTY: boolean; columns: number };
  if (!stderr.isTTY && Number.isInteger(columns) && columns > 0) {
    stderr.isTTY = true;
    stderr.columns = columns;
  }
  if (process.channel) {
    process.channel.unref(); // the channel alone must not keep the CLI running
    process.on('message', (m: { stderrColumns?: number }) => {
      if (m && typeof m.stderrColumns === 'number') {
        stderr.columns = m.stderrColumns;
        stderr.emit('resize');
      }
    });
    process.on('disconnect', () => process.exit(129));
  }
}
