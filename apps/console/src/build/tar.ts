/**
 * A minimal ustar writer, enough for a build context: regular files only, names
 * up to 255 bytes (split into prefix and name), sizes under 8 GiB. The browser
 * has no tar of its own and the npm ones expect Node's streams.
 */
export interface TarEntry {
  path: string;
  file: Blob;
}

const encoder = new TextEncoder();

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function splitName(path: string): { name: string; prefix: string } {
  const bytes = encoder.encode(path);
  if (bytes.length <= 100) return { name: path, prefix: '' };
  // ustar: a prefix of at most 155 bytes, cut at a slash, and a name of at most 100.
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) return { name, prefix };
  }
  throw new Error(`path too long for a tar: ${path}`);
}

function header(path: string, size: number, mtime: number): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, offset: number) => block.set(encoder.encode(text), offset);
  const { name, prefix } = splitName(path);
  put(name, 0);
  put(octal(0o644, 8), 100);
  put(octal(0, 8), 108);
  put(octal(0, 8), 116);
  put(octal(size, 12), 124);
  put(octal(Math.floor(mtime / 1000), 12), 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  put(prefix, 345);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(octal(sum, 7) + ' ', 148);
  return block;
}

/** The tar as a Blob: the files' contents are referenced, not copied into memory. */
export function packTar(entries: TarEntry[]): Blob {
  const parts: BlobPart[] = [];
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    if (!path || path.split('/').includes('..')) throw new Error(`refusing the path ${entry.path}`);
    parts.push(header(path, entry.file.size, entry.file instanceof File ? entry.file.lastModified : Date.now()).buffer as ArrayBuffer, entry.file);
    const pad = (512 - (entry.file.size % 512)) % 512;
    if (pad) parts.push(new Uint8Array(pad).buffer as ArrayBuffer);
  }
  parts.push(new Uint8Array(1024).buffer as ArrayBuffer);
  return new Blob(parts, { type: 'application/x-tar' });
}

/** A folder picked with webkitdirectory: each file's path inside the folder (the folder's own name dropped). */
export function folderEntries(files: FileList): TarEntry[] {
  return Array.from(files, (file) => {
    const relative = file.webkitRelativePath || file.name;
    return { path: relative.includes('/') ? relative.slice(relative.indexOf('/') + 1) : relative, file };
  });
}
