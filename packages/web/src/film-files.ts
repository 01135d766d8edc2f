/**
 * Films from the file pickers and from drag and drop, each with the name the CSV shows: its path
 * inside a chosen or dropped folder, else its file name. Inside folders only image extensions
 * are taken (as `spine-cli predict` walks folders); files named one by one are all tried, so a
 * wrong file gets a "not an image" row instead of vanishing.
 */
export interface FilmFile {
  name: string;
  file: File;
}

export const IMAGE_EXTENSIONS = ['.png', '.tif', '.tiff', '.jpg', '.jpeg', '.dcm', '.dicom'];

export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

const byName = (a: FilmFile, b: FilmFile) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Files of an <input type=file> (with webkitdirectory, every file of the folder). */
export function filmsFromInput(list: FileList, folder: boolean): FilmFile[] {
  const films = [...list].map((file) => ({ name: file.webkitRelativePath || file.name, file }));
  return (folder ? films.filter((f) => isImageName(f.name)) : films).sort(byName);
}

/** Files and folders dropped on the page; folders are walked recursively. */
export async function filmsFromDrop(data: DataTransfer): Promise<FilmFile[]> {
  const entries = [...data.items].map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() : null));
  if (entries.some((e) => !e)) return [...data.files].map((file) => ({ name: file.name, file })).sort(byName);
  const out: FilmFile[] = [];
  for (const entry of entries as FileSystemEntry[]) {
    if (entry.isFile) out.push({ name: entry.name, file: await fileOf(entry as FileSystemFileEntry) });
    else await walk(entry as FileSystemDirectoryEntry, out);
  }
  return out.sort(byName);
}

async function walk(dir: FileSystemDirectoryEntry, out: FilmFile[]): Promise<void> {
  const reader = dir.createReader();
  // readEntries returns the listing in pieces; an empty piece ends it.
  for (;;) {
    const part = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (part.length === 0) return;
    for (const e of part) {
      if (e.isDirectory) await walk(e as FileSystemDirectoryEntry, out);
      else if (isImageName(e.name))
        out.push({ name: e.fullPath.replace(/^\//, ''), file: await fileOf(e as FileSystemFileEntry) });
    }
  }
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}
