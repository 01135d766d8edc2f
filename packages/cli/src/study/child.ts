/**
 * Runs one spine-cli command as a child process for a study step.
 *
 * Why children rather than calling the commands in this process: each step is then exactly the
 * command a researcher would type (study.json and the page record it), every step starts with a
 * fresh GPU device and a fresh heap (a DenseNet's buffer pools and decoded films are gone before
 * the next step), a crash in one step leaves the study's own state intact, and resuming a step
 * is the command's own resume (`train --resume`, `roi crop` skipping what it cropped).
 *
 * The child writes its stdout and stderr to the step's log and to this process's stderr (its
 * results are progress from the study's point of view; stdout carries the study's tables). It is
 * told when stderr is a terminal so it draws progress bars, and holds an IPC channel to this
 * process, so it exits if the study is killed (launched.ts) rather than training on unseen.
 * Ctrl-C reaches the child from the terminal (one process group): train finishes its batch,
 * saves and exits 130, and the study stops after it; SIGTERM and SIGHUP are passed on.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ChildResult {
  code: number;
  /** The signal that ended the child, if one did. */
  signal: NodeJS.Signals | null;
}

/** The command line that runs this spine-cli (node, its flags, the entry script). */
function selfCommand(): { node: string; args: string[] } {
  const script = process.argv[1];
  if (!script) throw new Error('spine-cli study: cannot tell which script is running (process.argv[1] is empty)');
  return { node: process.execPath, args: [...process.execArgv, script] };
}

export async function runChild(
  args: readonly string[],
  log: string,
  onSpawn?: (pid: number | undefined) => Promise<void> | void,
): Promise<ChildResult> {
  mkdirSync(dirname(log), { recursive: true });
  const logStream = createWriteStream(log, { flags: 'a' });
  logStream.write(`$ spine-cli ${args.join(' ')}\n`);
  const self = selfCommand();
  const stderr = process.stderr as NodeJS.WriteStream;
  const env = {
    ...process.env,
    ...(stderr.isTTY && stderr.columns ? { SPINE_CLI_STDERR_TTY: String(stderr.columns) } : {}),
  };
  const child = spawn(self.node, [...self.args, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
  await onSpawn?.(child.pid);
  const relay = (chunk: Buffer) => {
    process.stderr.write(chunk);
    logStream.write(chunk);
  };
  child.stdout!.on('data', relay);
  child.stderr!.on('data', relay);
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const onTerm = forward('SIGTERM');
  const onHup = forward('SIGHUP');
  // The terminal's Ctrl-C reaches the child directly; this process waits for it to save and exit.
  const onInt = () => {};
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  process.on('SIGINT', onInt);
  try {
    return await new Promise<ChildResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), signal }));
    });
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
    process.off('SIGINT', onInt);
    await new Promise<void>((resolve) => logStream.end(resolve));
  }
}
