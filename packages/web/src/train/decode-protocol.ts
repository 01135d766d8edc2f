/** Messages between the page and its decoding workers (decode-worker.ts). */
import type { Image } from '@spine/imaging';
import type { TransformConfig } from '@spine/models/browser';

export interface DecodeTask {
  id: number;
  bytes: Uint8Array;
  name: string;
  transform: TransformConfig;
}

export type DecodeReply = { id: number; image: Image } | { id: number; problem: string };
