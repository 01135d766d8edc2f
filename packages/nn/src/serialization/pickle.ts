// A restricted unpickler: it interprets the pickle opcodes that PyTorch state dicts use
// (protocols 2 to 4) and builds plain JS values. It never imports or runs anything: a GLOBAL is
// resolved by the caller's findGlobal hook, which returns a JS stand-in from an allow-list or
// throws; REDUCE may only call such stand-ins. Python's own pickle module is the reference
// (Lib/pickle.py, _Unpickler.load_*), trimmed to what torch.save writes.
//
// Python values map to: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
// float -> number, str -> string, bytes -> Uint8Array, list -> array, tuple -> frozen array,
// dict -> Map (insertion order kept, as Python dicts keep it).
import { SerializationError } from './errors.js';

declare const TextDecoder: { new (label: string): { decode(b: Uint8Array): string } };

/** A resolved GLOBAL: a stand-in for a Python callable or class. */
export interface PickleGlobal {
  readonly module: string;
  readonly name: string;
  /** What REDUCE does with it; absent for globals that are only ever used as values. */
  readonly call?: (args: readonly unknown[]) => unknown;
}

export interface UnpickleHooks {
  /** Resolve `module.name` from an allow-list, or throw. Never import anything. */
  findGlobal(module: string, name: string): PickleGlobal;
  /** BINPERSID: turn a persistent id (torch's storage reference tuple) into a value. */
  persistentLoad?(pid: unknown): unknown;
  /** Name used in error messages. */
  file: string;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode (legacy checkpoints put several pickles back to back). */
  end: number;
}

export function isPickleGlobal(v: unknown): v is PickleGlobal {
  return typeof v === 'object' && v !== null && PICKLE_GLOBAL in v;
}

/** Build a PickleGlobal (the brand lets the unpickler tell it apart from a dict or list). */
export function pickleGlobal(module: string, name: string, call?: (args: readonly unknown[]) => unknown): PickleGlobal {
  const g: Record<string | symbol, unknown> = { module, name, [PICKLE_GLOBAL]: true };
  if (call) g.call = call;
  return g as unknown as PickleGlobal;
}

const PICKLE_GLOBAL = Symbol('PickleGlobal');
const utf8 = new TextDecoder('utf-8');

/** Unpickle one object starting at `start`; stops at the first STOP opcode. */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, start = 0): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opPos = start;

  const fail = (reason: string): never => {
    throw new SerializationError(hooks.file, `pickle at byte ${opPos}: ${reason}`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.byteLength) fail('truncated (data ends inside an opcode)');
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => view.getUint8(need(1));
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length out of range');
    return Number(v);
  };
  const take = (n: number) => bytes.subarray(need(n), pos);
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('truncated (no newline after GLOBAL name)');
    const s = utf8.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK to pop to');
    return stack.splice(m!);
  };
  const tuple = (items: unknown[]) => Object.freeze(items);
  const dictAt = (v: unknown): Map<unknown, unknown> => {
    if (!(v instanceof Map)) fail('SETITEM on something that is not a dict');
    return v as Map<unknown, unknown>;
  };
  const listAt = (v: unknown): unknown[] => {
    if (!Array.isArray(v) || Object.isFrozen(v)) fail('APPEND on something that is not a list');
    return v as unknown[];
  };
  const global = (module: string, name: string) => stack.push(hooks.findGlobal(module, name));

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: a length prefix for buffering; the content follows inline
        need(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: pos };
      case 0x63: // GLOBAL "module\nname\n"
        global(line(), line());
        break;
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        global(module as string, name as string);
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} was never stored`);
        stack.push(memo.get(i));
        break;
      }
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push(tuple([]));
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(tuple(popMark()));
        break; // TUPLE
      case 0x85:
        stack.push(tuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x58:
        stack.push(utf8.decode(take(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(utf8.decode(take(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(utf8.decode(take(u64())));
        break; // BINUNICODE8
      // Python 2 str (old legacy checkpoints): torch.load decodes it as text too.
      case 0x55:
        stack.push(utf8.decode(take(u8())));
        break; // SHORT_BINSTRING
      case 0x54:
        stack.push(utf8.decode(take(u32())));
        break; // BINSTRING
      case 0x43:
        stack.push(copyBytes(take(u8())));
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(copyBytes(take(u32())));
        break; // BINBYTES
      case 0x8e:
        stack.push(copyBytes(take(u64())));
        break; // BINBYTES8
      case 0x4a:
        stack.push(view.getInt32(need(4), true));
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(view.getUint16(need(2), true));
        break; // BININT2
      case 0x8a:
        stack.push(decodeLong(take(u8())));
        break; // LONG1
      case 0x8b:
        stack.push(decodeLong(take(u32())));
        break; // LONG4
      case 0x47:
        stack.push(view.getFloat64(need(8), false));
        break; // BINFLOAT (big-endian)
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!hooks.persistentLoad) fail('persistent id without a loader');
        stack.push(hooks.persistentLoad!(pid));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!isPickleGlobal(fn) || !fn.call) fail(`REDUCE calls ${describe(fn)}, which is not an allowed callable`);
        if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
        stack.push((fn as PickleGlobal).call!(args as unknown[]));
        break;
      }
      case 0x62: {
        // BUILD
        // Only dicts take state here: a state dict's OrderedDict carries `_metadata` (module
        // versions) as an attribute, which a reader of tensors does not need.
        pop();
        if (!(top() instanceof Map)) fail(`BUILD (set object state) on ${describe(top())}`);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        dictAt(top()).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = dictAt(top());
        if (items.length % 2) fail('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        const v = pop();
        listAt(top()).push(v);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        listAt(top()).push(...items);
        break;
      } // APPENDS
      default:
        fail(
          `unsupported opcode 0x${op.toString(16).padStart(2, '0')}${OPCODE_NAMES[op] ? ` (${OPCODE_NAMES[op]})` : ''}; ` +
            'only the opcodes of plain state dicts are implemented',
        );
    }
  }
}

/** Python's LONG1/LONG4 payload: little-endian two's complement of any length. */
function decodeLong(b: Uint8Array): number | bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function describe(v: unknown): string {
  if (isPickleGlobal(v)) return `'${v.module}.${v.name}'`;
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'a tuple' : 'a list';
  return v === null ? 'None' : `a ${typeof v}`;
}

// Names for opcodes we refuse, so the error says what the file tried to do.
const OPCODE_NAMES: Record<number, string> = {
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x50: 'PERSID',
  0x49: 'INT',
  0x4c: 'LONG',
  0x46: 'FLOAT',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x67: 'GET',
  0x70: 'PUT',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
};

/** A copy that owns its memory (a Node buffer's own slice() would be a view). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}
