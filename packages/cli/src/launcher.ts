/**
 * The `spine-cli` process that a user starts. It runs the CLI (dist/bin.js) as a child whose
 * stderr passes through `dawnNoticeFilter`, so that stderr carries only spine-cli's own messages.
 *
 * Why a second process: Dawn prints "maxDynamic{Uniform,Storage}BuffersPerPipelineLayout
 * artificially reduced ..." straight to file descriptor 2 from native code while it enumerates
 * adapters, whenever the driver reports more than Dawn's internal maximum (Mesa lavapipe reports
 * 1,000,000), before any limit can be requested. Node cannot point its own fd 2 elsewhere for the
 * duration of a call and restore it exactly (no dup2), so the notice is filtered where it arrives.
 *
 * The child keeps the user's terminal where it can: stdin and stdout are inherited, and when
 * stderr is a terminal the child is told so (SPINE_CLI_STDERR_TTY, its width in columns) and draws
 * its progress bars as it would on the terminal itself. Ctrl-C reaches both processes (one process
 * group): the child handles it, the launcher waits; SIGTERM and SIGHUP are passed on. The exit
 * code, or the signal that ended the child, becomes the launcher's. If the launcher itself is
 * killed, the child's IPC channel closes and it exits too (bin.ts).
 */
import { spawn } from 'node:child_process';

/** Dawn's two notices, one line each; nothing else is dropped. */
const DAWN_NOTICE =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;
const NOTICE_HEADS = ['Uniform', 'Storage'].map(
  (kind) => `Warning: maxDynamic${kind}BuffersPerPipelineLayout artificially reduced from `,
);

/** Whether an unfinished line may still turn out to be one of the notices. */
function mayBeNotice(line: string): boolean {
  return NOTICE_HEADS.some((head) => (line.length <= head.length ? head.startsWith(line) : line.startsWith(head)));
}

export interface LineFilter {
  push(chunk: string): void;
  end(): void;
}

/**
 * Passes text to `write` as soon as it cannot be the start of one of Dawn's notices, so progress
 * bars redrawn with '\r' are not held back; drops whole lines that are the notices.
 */
export function dawnNoticeFilter(write: (text: string) => void): LineFilter {
  // The current line's text that might still become a notice (a prefix of one), held back; and
  // whether the next text starts a line (a line already partly written cannot be a notice).
  let held = '';
  let atLineStart = true;
  return {
    push(chunk: string) {
      let text = held + chunk;
      let out = '';
      held = '';
      while (text.length > 0) {
        const nl = text.indexOf('\n');
        const line = nl < 0 ? text : text.slice(0, nl);
        const candidate = atLineStart && mayBeNotice(line);
        if (nl < 0) {
          // An unfinished line: held only while it may still be a notice.
          if (candidate) held = line;
          else {
            out += line;
            atLineStart = false;
          }
          break;
        }
        if (!(candidate && DAWN_NOTICE.test(line))) out += `${line}\n`;
        atLineStart = true;
        text = text.slice(nl + 1);
      }
      if (out) write(out);
    },
    end() {
      if (held) write(held);
      held = '';
    },
  };
}

/** Runs `entry` (dist/bin.js) with this process's arguments behind the filter; resolves never (exits). */
export function launch(entry: string): void {
  const stderr = process.stderr;
  const env = { ...process.env };
  if (stderr.isTTY) env.SPINE_CLI_STDERR_TTY = String(stderr.columns || 80); // 0 where the terminal reports no size
  const child = spawn(process.execPath, [...process.execArgv, entry, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'],
    env,
  });
  const filter = dawnNoticeFilter((text) => stderr.write(text));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => filter.push(chunk));
  child.stderr!.on('end', () => filter.end());
  // The terminal sends Ctrl-C to the child too; it decides what to do, the launcher waits for it.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  if (stderr.isTTY) stderr.on('resize', () => child.connected && child.send({ stderrColumns: stderr.columns }));
  child.on('error', (e) => {
    stderr.write(`error: could not start the spine-cli process: ${e.message}\n`);
    process.exit(1);
  });
  child.on('close', (code, signal) => {
    filter.end();
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exitCode = code ?? 1;
  });
}
