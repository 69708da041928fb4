/**
 * Triton's system shared-memory extension (server docs/protocol/extension_shared_memory.md): a
 * client creates a POSIX shared-memory object (`shm_open(key)`, which is the file /dev/shm/<key> on
 * Linux), registers a window of it under a region name, and then names the region, an offset and a
 * byte size in place of an input's data or as where an output goes.
 *
 * Node cannot mmap without a native addon, so each region keeps one file descriptor open on the
 * object and reads and writes it at an offset (pread/pwrite). The bytes a client sees through its own
 * mapping are the same: tmpfs pages are shared. Contracts:
 * - the key is one name under the shared-memory folder (no '/', no '..'; leading slashes are
 *   dropped as shm_open does), opened with O_NOFOLLOW so a symlink is refused, and must be a
 *   regular file holding at least offset + byte_size bytes;
 * - every read and write is bounds-checked against the registered window and the file's current
 *   size (a client can shrink its object after registering);
 * - the number of regions and the total registered bytes are bounded (settings below).
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { clip } from '../core/clip.js';
import { InferdError } from '../errors.js';

export interface SharedMemoryLimits {
  /** Where shm_open keys live (Linux: /dev/shm). */
  dir: string;
  /** Regions registered at once. */
  maxRegions: number;
  /** Sum of the registered byte sizes. */
  maxTotalBytes: number;
}

/** Triton's region status (REST: a JSON array of these; gRPC: RegionStatus). */
export interface SharedMemoryRegionStatus {
  name: string;
  key: string;
  offset: number;
  byte_size: number;
}

interface Region extends SharedMemoryRegionStatus {
  fd: number;
}

/** shm_open's rule: at most NAME_MAX (255) bytes, no '/' after the leading ones. */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;
/** Region names are client text echoed in statuses and messages: bounded. */
const MAX_NAME_CHARS = 256;

function checkCount(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new InferdError('shm_invalid', `${what} must be a non-negative integer, got ${clip(String(v))}`);
  }
  return v;
}

export class SharedMemoryRegistry {
  private readonly regions = new Map<string, Region>();
  private totalBytes = 0;

  constructor(private readonly limits: SharedMemoryLimits) {}

  register(name: string, key: string, offset: number, byteSize: number): void {
    if (!name || name.length > MAX_NAME_CHARS) {
      throw new InferdError('shm_invalid', `a region name must have 1 to ${MAX_NAME_CHARS} characters`);
    }
    if (this.regions.has(name)) {
      throw new InferdError(
        'shm_region_exists',
        `shared memory region '${clip(name)}' is already registered; unregister it first`,
      );
    }
    checkCount(offset, "'offset'");
    checkCount(byteSize, "'byte_size'");
    const bare = key.replace(/^\/+/, '');
    if (!KEY.test(bare) || bare === '.' || bare === '..') {
      throw new InferdError(
        'shm_invalid',
        `shared memory key '${clip(key)}' is not a shm_open name: one name of letters, digits, '.', '_' or '-' (an optional leading '/')`,
      );
    }
    if (this.regions.size >= this.limits.maxRegions) {
      throw new InferdError(
        'shm_limit',
        `${this.limits.maxRegions} shared memory regions are registered, the most this server allows; unregister one first`,
      );
    }
    if (this.totalBytes + byteSize > this.limits.maxTotalBytes) {
      throw new InferdError(
        'shm_limit',
        `registering ${byteSize} bytes would exceed the ${this.limits.maxTotalBytes} bytes of shared memory this server allows in all`,
      );
    }
    let fd: number;
    try {
      fd = openSync(join(this.limits.dir, bare), constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InferdError(
        'shm_invalid',
        code === 'ELOOP'
          ? `shared memory key '${clip(key)}' is a symbolic link; give the object itself`
          : `unable to open shared memory key '${clip(key)}' (${code ?? 'error'}); create it (shm_open) before registering`,
      );
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile())
        throw new InferdError('shm_invalid', `shared memory key '${clip(key)}' is not a memory object`);
      if (offset + byteSize > st.size) {
        throw new InferdError(
          'shm_invalid',
          `shared memory key '${clip(key)}' holds ${st.size} bytes; offset ${offset} + byte_size ${byteSize} is beyond its end`,
        );
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.regions.set(name, { name, key, offset, byte_size: byteSize, fd });
    this.totalBytes += byteSize;
  }

  /** Unregisters one region, or every region when `name` is undefined. An unknown name is no error (Triton). */
  unregister(name?: string): void {
    const names = name === undefined ? [...this.regions.keys()] : [name];
    for (const n of names) {
      const r = this.regions.get(n);
      if (!r) continue;
      this.regions.delete(n);
      this.totalBytes -= r.byte_size;
      closeSync(r.fd);
    }
  }

  status(name?: string): SharedMemoryRegionStatus[] {
    const list = name === undefined ? [...this.regions.values()] : [this.find(name)];
    return list.map(({ name: n, key, offset, byte_size }) => ({ name: n, key, offset, byte_size }));
  }

  /** A copy of `byteSize` bytes at `offset` within the region. */
  read(name: string, offset: number, byteSize: number, what: string): Buffer {
    const { region, at } = this.window(name, offset, byteSize, what);
    const buf = Buffer.allocUnsafe(byteSize);
    let done = 0;
    while (done < byteSize) {
      const n = readSync(region.fd, buf, done, byteSize - done, at + done);
      if (n === 0) break;
      done += n;
    }
    if (done !== byteSize) throw this.shrunk(region, what);
    return buf;
  }

  write(name: string, offset: number, data: Uint8Array, what: string): void {
    const { region, at } = this.window(name, offset, data.byteLength, what);
    let done = 0;
    while (done < data.byteLength)
      done += writeSync(region.fd, data, done, data.byteLength - done, at + done);
  }

  /** Throws as `read`/`write` would for this window, touching no data (outputs, before inference). */
  check(name: string, offset: number, byteSize: number, what: string): void {
    this.window(name, offset, byteSize, what);
  }

  closeAll(): void {
    this.unregister();
  }

  private find(name: string): Region {
    const r = this.regions.get(name);
    if (!r) {
      throw new InferdError(
        'shm_region_not_found',
        `Unable to find system shared memory region: '${clip(name)}'`,
      );
    }
    return r;
  }

  /** Checks [offset, offset+size) lies in the registered window and in the file as it is now. */
  private window(
    name: string,
    offset: number,
    byteSize: number,
    what: string,
  ): { region: Region; at: number } {
    const region = this.find(name);
    checkCount(offset, `${what}: shared_memory_offset`);
    checkCount(byteSize, `${what}: shared_memory_byte_size`);
    if (offset + byteSize > region.byte_size) {
      throw new InferdError(
        'shm_invalid',
        `${what}: offset ${offset} + byte_size ${byteSize} is beyond shared memory region '${clip(name)}' of ${region.byte_size} bytes`,
      );
    }
    const at = region.offset + offset;
    if (at + byteSize > fstatSync(region.fd).size) throw this.shrunk(region, what);
    return { region, at };
  }

  private shrunk(region: Region, what: string): InferdError {
    return new InferdError(
      'shm_invalid',
      `${what}: shared memory key '${clip(region.key)}' is now smaller than region '${clip(region.name)}'; register it again`,
    );
  }
}
