// What a PyTorch state-dict pickle may contain: the allow-list of globals and the stand-ins they
// produce. A tensor is not built while unpickling: `_rebuild_tensor_v2` returns a TensorRef
// (storage key, offset, shape, stride) and the bytes are read afterwards, storage by storage.
import type { DType } from './dtypes.js';
import { SerializationError } from './errors.js';
import { pickleGlobal, isPickleGlobal, unpickle, type PickleGlobal } from './pickle.js';

/** A storage as a persistent id names it; bytes are fetched later by key. */
export interface StorageRef {
  readonly kind: 'storage';
  /** Key of the root storage: the zip entry `data/<key>`, or the legacy record key. */
  readonly key: string;
  readonly dtype: DType;
  /** Elements of the root storage (as the persistent id states). */
  readonly rootNumel: number;
  /** Start and length, in elements, of this view of the root (pre-1.0 legacy storage views). */
  readonly viewOffset: number;
  readonly numel: number;
}

/** A tensor to materialise: elements at viewOffset + offset + sum(index[d] * stride[d]). */
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

export function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'tensor';
}

// torch.<Name>Storage -> element type. These are only ever values inside a persistent id.
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

function isIntList(v: unknown): v is readonly number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}

function rebuildTensor(file: string, fn: string) {
  return (args: readonly unknown[]): TensorRef => {
    const [storage, offset, shape, stride] = args;
    if (!(typeof storage === 'object' && storage !== null && (storage as StorageRef).kind === 'storage')) {
      throw new SerializationError(file, `${fn}: first argument is not a storage`);
    }
    if (
      !Number.isSafeInteger(offset) ||
      (offset as number) < 0 ||
      !isIntList(shape) ||
      !isIntList(stride) ||
      shape.length !== stride.length
    ) {
      throw new SerializationError(file, `${fn}: offset/size/stride are not non-negative integers of matching rank`);
    }
    return {
      kind: 'tensor',
      storage: storage as StorageRef,
      offset: offset as number,
      shape: [...shape],
      stride: [...stride],
    };
  };
}

/** The allow-list. Anything else stops the load with an error that names the global. */
export function torchGlobals(file: string): (module: string, name: string) => PickleGlobal {
  const passTensor = (args: readonly unknown[]) => args[0];
  const allowed = new Map<string, PickleGlobal>([
    // OrderedDict() or OrderedDict([(k, v), ...]); items usually follow through SETITEMS.
    [
      'collections.OrderedDict',
      pickleGlobal(
        'collections',
        'OrderedDict',
        (args) => new Map(args.length ? (args[0] as Iterable<[unknown, unknown]>) : []),
      ),
    ],
    [
      'torch._utils._rebuild_tensor_v2',
      pickleGlobal('torch._utils', '_rebuild_tensor_v2', rebuildTensor(file, '_rebuild_tensor_v2')),
    ],
    [
      'torch._utils._rebuild_tensor',
      pickleGlobal('torch._utils', '_rebuild_tensor', rebuildTensor(file, '_rebuild_tensor')),
    ],
    // A Parameter in a state dict is just its data (requires_grad and hooks do not matter here).
    ['torch._utils._rebuild_parameter', pickleGlobal('torch._utils', '_rebuild_parameter', passTensor)],
    [
      'torch._utils._rebuild_parameter_with_state',
      pickleGlobal('torch._utils', '_rebuild_parameter_with_state', passTensor),
    ],
  ]);
  for (const s of Object.keys(STORAGE_DTYPES)) allowed.set(`torch.${s}`, pickleGlobal('torch', s));
  return (module, name) => {
    const g = allowed.get(`${module}.${name}`);
    if (g) return g;
    throw new SerializationError(
      file,
      `refusing pickle global '${module}.${name}': only state-dict contents (collections.OrderedDict, ` +
        'torch._utils tensor/parameter rebuilders, torch.*Storage) are allowed, and nothing was executed. ' +
        'If you trust the file, re-save just its state dict (torch.save(model.state_dict(), path)) or convert it to safetensors.',
    );
  };
}

/**
 * Parse a persistent id ('storage', torch.XStorage, key, location, numel[, view_metadata]).
 * view_metadata (view_key, offset, size) only appears in pre-1.0 legacy files; torch 1.13 writes
 * None there.
 */
export function storageFromPersistentId(pid: unknown, file: string): StorageRef {
  const t = pid as unknown[];
  if (!Array.isArray(t) || t[0] !== 'storage' || (t.length !== 5 && t.length !== 6)) {
    throw new SerializationError(file, `unexpected persistent id ${describePid(pid)} (expected a storage reference)`);
  }
  const [, type, key, , numel, view] = t;
  const dtype = isPickleGlobal(type) && type.module === 'torch' ? STORAGE_DTYPES[type.name] : undefined;
  if (!dtype) throw new SerializationError(file, `storage ${String(key)} has an unsupported storage type`);
  if (typeof key !== 'string' || !Number.isSafeInteger(numel) || (numel as number) < 0) {
    throw new SerializationError(file, `malformed storage reference ${describePid(pid)}`);
  }
  const root = { kind: 'storage' as const, key, dtype, rootNumel: numel as number };
  if (view === undefined || view === null) return { ...root, viewOffset: 0, numel: numel as number };
  const [, vOffset, vSize] = view as unknown[];
  if (
    !Number.isSafeInteger(vOffset) ||
    !Number.isSafeInteger(vSize) ||
    (vOffset as number) < 0 ||
    (vOffset as number) + (vSize as number) > (numel as number)
  ) {
    throw new SerializationError(
      file,
      `storage ${key}: view ${describePid(view)} lies outside its ${numel}-element root`,
    );
  }
  return { ...root, viewOffset: vOffset as number, numel: vSize as number };
}

function describePid(v: unknown): string {
  if (Array.isArray(v))
    return `(${v.map((x) => (isPickleGlobal(x) ? `${x.module}.${x.name}` : typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ')})`;
  return String(v);
}

/** Unpickle a torch pickle with the allow-list; every storage reference goes through onStorage. */
export function unpickleTorch(
  bytes: Uint8Array,
  file: string,
  start = 0,
  onStorage?: (s: StorageRef) => void,
): { value: unknown; end: number } {
  return unpickle(
    bytes,
    {
      file,
      findGlobal: torchGlobals(file),
      persistentLoad: (pid) => {
        const s = storageFromPersistentId(pid, file);
        onStorage?.(s);
        return s;
      },
    },
    start,
  );
}
