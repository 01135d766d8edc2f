/**
 * A training run kept in the browser's IndexedDB, so a reloaded or reopened page can continue it
 * from its last checkpoint: the run's files (config.json, split.json, metrics.jsonl, checkpoints)
 * and which folder it trained on. Films are not stored; the user chooses the folder again.
 */
const DB = 'spine-web';
const STORE = 'runs';
const KEY = 'current';

export interface SavedRun {
  /** The chosen folder's name and the run's name (the zip's folder). */
  folder: string;
  run: string;
  /** A labels CSV chosen apart from the folder, by name. */
  labels: string | null;
  files: Map<string, Uint8Array>;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
  });
}

async function request<R>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<R>): Promise<R> {
  const db = await open();
  try {
    return await new Promise<R>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
    });
  } finally {
    db.close();
  }
}

export async function saveRun(run: SavedRun): Promise<void> {
  await request('readwrite', (s) => s.put({ ...run, files: [...run.files] }, KEY));
}

/** The saved run, or undefined when there is none (or the browser keeps no storage for the page). */
export async function loadRun(): Promise<SavedRun | undefined> {
  if (typeof indexedDB === 'undefined') return undefined;
  const v = (await request('readonly', (s) => s.get(KEY))) as
    | (Omit<SavedRun, 'files'> & { files: [string, Uint8Array][] })
    | undefined;
  return v ? { ...v, files: new Map(v.files) } : undefined;
}

export async function clearRun(): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  await request('readwrite', (s) => s.delete(KEY));
}
