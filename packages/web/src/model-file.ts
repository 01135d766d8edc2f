/**
 * What the page loads as "the model": a safetensors file that says which network it holds and
 * how films are prepared for it. Two kinds are accepted:
 *
 * - the `model.safetensors` that `spine-cli export-web` writes: state-dict keys, plus metadata
 *   `format: spine-web-model` with the network config, the input transform and the verdict rule
 *   (threshold, uncertainty) as JSON strings;
 * - a training checkpoint (`checkpoints/<name>-....safetensors`, metadata `format:
 *   spine-checkpoint`, keys `model.*` and `optimizer.*`) picked together with the run's
 *   config.json, which supplies the network config.
 *
 * Pure code on bytes (no DOM, no GPU), so it is tested in Node. Anything else is a ModelFileError
 * whose message names the file and says what to load instead.
 */
import { decodeSafetensors } from '@spine/nn';
import {
  CHECKPOINT_FORMAT,
  DEFAULT_VERDICT,
  DENSENET_ARCHS,
  WEB_MODEL_FORMAT,
  WEB_MODEL_VERSION,
  inputTransform,
  type DenseNetModelConfig,
  type InputTransform,
  type ModelConfig,
  type SequentialCnnConfig,
  type Verdict,
} from '@spine/models/browser';

export interface WeightEntry {
  shape: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export interface WebModel {
  /** Where it came from, for the page ("model.safetensors (run q1, best checkpoint, epoch 12)"). */
  label: string;
  model: ModelConfig;
  transform: InputTransform;
  verdict: Verdict;
  /** State-dict entries by PyTorch key. */
  weights: Map<string, WeightEntry>;
}

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file} is not a model this page can run: ${reason}`);
  }
}

export const MODEL_FILE_ADVICE =
  "Load the model.safetensors that 'spine-cli export-web RUN --out DIR' wrote, or a checkpoint .safetensors from a run's checkpoints/ folder together with the run's config.json.";

/** Reads the picked or fetched files (one safetensors, optionally config.json) into a WebModel. */
export function readModelFiles(files: readonly NamedBytes[]): WebModel {
  if (files.length === 0) throw new ModelFileError('(no file)', 'nothing was chosen');
  const json = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
  const tensors = files.filter((f) => !f.name.toLowerCase().endsWith('.json'));
  if (tensors.length !== 1) {
    const names = files.map((f) => f.name).join(', ');
    throw new ModelFileError(
      names,
      tensors.length === 0
        ? 'no .safetensors file among them (a config.json alone holds no weights)'
        : 'more than one weights file; choose one .safetensors (and at most a config.json)',
    );
  }
  if (json.length > 1)
    throw new ModelFileError(
      json.map((f) => f.name).join(', '),
      "more than one JSON file; choose the run's config.json only",
    );
  const file = tensors[0]!;
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(file.bytes, { file: file.name });
  } catch (e) {
    throw new ModelFileError(file.name, `not a readable safetensors file (${firstLine(e)})`);
  }
  const format = decoded.metadata.format;
  if (format === WEB_MODEL_FORMAT) {
    if (json.length > 0)
      throw new ModelFileError(
        json[0]!.name,
        `${file.name} is an exported model that carries its own configuration; load it alone`,
      );
    return fromExport(file.name, decoded.metadata, decoded.tensors);
  }
  if (format === CHECKPOINT_FORMAT) {
    if (json.length === 0)
      throw new ModelFileError(
        file.name,
        "a training checkpoint holds the weights but not the network's configuration: choose the run's config.json together with it",
      );
    return fromCheckpoint(file.name, decoded.tensors, json[0]!);
  }
  throw new ModelFileError(
    file.name,
    `safetensors without spine-cli's metadata (format ${format === undefined ? 'missing' : `'${format}'`}), so the network it belongs to is unknown`,
  );
}

function fromExport(name: string, metadata: Record<string, string>, tensors: Map<string, WeightEntry>): WebModel {
  if (metadata.version !== WEB_MODEL_VERSION)
    throw new ModelFileError(
      name,
      `exported model version ${String(metadata.version)}, this page reads version ${WEB_MODEL_VERSION}; export it again with this spine-cli`,
    );
  const model = checkModelConfig(name, parseJson(name, metadata, 'model'));
  const transform = checkTransform(name, parseJson(name, metadata, 'transform'));
  const verdict = checkVerdict(
    name,
    metadata.verdict === undefined ? DEFAULT_VERDICT : parseJson(name, metadata, 'verdict'),
  );
  const source =
    metadata.source === undefined
      ? undefined
      : (parseJson(name, metadata, 'source') as { run?: string; checkpoint?: string; epoch?: number });
  const from = source?.run
    ? ` (run ${source.run}, ${source.checkpoint ?? '?'} checkpoint${source.epoch !== undefined ? `, epoch ${source.epoch}` : ''})`
    : '';
  return { label: `${name}${from}`, model, transform, verdict, weights: tensors };
}

function fromCheckpoint(name: string, tensors: Map<string, WeightEntry>, config: NamedBytes): WebModel {
  let record: { format?: unknown; config?: { model?: unknown } };
  try {
    record = JSON.parse(new TextDecoder('utf-8').decode(config.bytes)) as typeof record;
  } catch (e) {
    throw new ModelFileError(config.name, `not valid JSON (${firstLine(e)})`);
  }
  if (record?.format !== 'spine-run' || typeof record.config !== 'object')
    throw new ModelFileError(config.name, "not a spine-cli run's config.json (no format 'spine-run')");
  const model = checkModelConfig(config.name, record.config.model);
  const weights = new Map<string, WeightEntry>();
  for (const [key, t] of tensors) if (key.startsWith('model.')) weights.set(key.slice('model.'.length), t);
  if (weights.size === 0) throw new ModelFileError(name, "no 'model.*' tensors in the checkpoint");
  return {
    label: `${name} + ${config.name}`,
    model,
    transform: inputTransform(model),
    verdict: DEFAULT_VERDICT,
    weights,
  };
}

function parseJson(file: string, metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw new ModelFileError(file, `metadata has no '${key}'`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, `metadata '${key}' is not valid JSON (${firstLine(e)})`);
  }
}

const ARCHS: readonly string[] = DENSENET_ARCHS;
const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** The fields the page relies on; the model constructors check the rest when they build. */
function checkModelConfig(file: string, m: unknown): ModelConfig {
  const c = m as Partial<DenseNetModelConfig & SequentialCnnConfig> | undefined;
  if (typeof c !== 'object' || c === null) throw new ModelFileError(file, 'no network configuration');
  if (!isInt(c.inputSize, 1, 8192))
    throw new ModelFileError(file, `network input size ${String(c.inputSize)} is not an integer in 1..8192`);
  if (c.numClasses !== 2)
    throw new ModelFileError(
      file,
      `the network has ${String(c.numClasses)} classes; the page reads two (female, male)`,
    );
  if (c.kind === 'densenet') {
    if (!ARCHS.includes(String(c.arch)))
      throw new ModelFileError(file, `unknown DenseNet '${String(c.arch)}' (known: ${ARCHS.join(', ')})`);
    if (c.resize !== 'stretch' && c.resize !== 'shorter-side-crop')
      throw new ModelFileError(file, `unknown resize mode '${String(c.resize)}'`);
    return c as DenseNetModelConfig;
  }
  if (c.kind !== undefined && c.kind !== 'seqcnn')
    throw new ModelFileError(file, `unknown network kind '${String(c.kind)}'`);
  if (
    !Array.isArray(c.channels) ||
    c.channels.length !== 5 ||
    !Array.isArray(c.hidden) ||
    c.hidden.length !== 2 ||
    typeof c.conv1 !== 'object' ||
    typeof c.lrn !== 'object'
  ) {
    throw new ModelFileError(
      file,
      'the sequential CNN configuration is incomplete (channels, hidden, conv1, conv2, lrn)',
    );
  }
  return c as SequentialCnnConfig;
}

function checkTransform(file: string, t: unknown): InputTransform {
  const c = t as Partial<InputTransform> | undefined;
  if (typeof c !== 'object' || c === null || !isInt(c.width, 1, 8192) || !isInt(c.height, 1, 8192))
    throw new ModelFileError(file, 'the input transform has no valid width and height');
  if (c.resize !== 'stretch' && c.resize !== 'shorter-side-crop')
    throw new ModelFileError(file, `unknown resize mode '${String(c.resize)}'`);
  return c as InputTransform;
}

function checkVerdict(file: string, v: unknown): Verdict {
  const c = v as Partial<Verdict> | undefined;
  const p = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  if (typeof c !== 'object' || c === null || !p(c.threshold) || !p(c.uncertainBelow))
    throw new ModelFileError(file, 'the verdict rule needs threshold and uncertainBelow in 0..1');
  return { threshold: c.threshold!, uncertainBelow: c.uncertainBelow! };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
