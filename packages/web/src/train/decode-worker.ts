/**
 * The page's decoding worker (dist/decode-worker.js): a film's bytes -> decode -> grey -> resize
 * to the network input (@spine/models' `preprocess`, as the CLI's loader workers run it). Replies
 * with the resized image, its pixels transferred, or spine-cli's sentence for an unreadable film.
 */
import { decodeImage } from '@spine/imaging';
import { filmDecodeOptions, preprocess, resolveTransform, unreadableImage } from '@spine/models/browser';
import type { DecodeReply, DecodeTask } from './decode-protocol.js';

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<DecodeTask>) => void) | null;
  postMessage(message: DecodeReply, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { id, bytes, name, transform } = e.data;
  try {
    const film = preprocess(decodeImage(bytes, name, filmDecodeOptions(undefined)), resolveTransform(transform));
    scope.postMessage({ id, image: film }, [film.data.buffer]);
  } catch (err) {
    scope.postMessage({ id, problem: unreadableImage(err) });
  }
};
