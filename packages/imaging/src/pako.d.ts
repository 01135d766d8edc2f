// Minimal typing for the part of pako 1.x we use (the package ships no types).
declare module 'pako' {
  export function inflate(data: Uint8Array): Uint8Array;
  /** Streaming inflater: `push` feeds input (mode 2 = Z_SYNC_FLUSH hands over all output so far). */
  export class Inflate {
    constructor(options?: { chunkSize?: number });
    push(data: Uint8Array, mode?: boolean | number): boolean;
    onData(chunk: Uint8Array): void;
    onEnd(status: number): void;
    ended: boolean;
    strm: { msg: string };
  }
  const pako: { inflate: typeof inflate; Inflate: typeof Inflate };
  export default pako;
}
