/** The exact bytes of a view as their own ArrayBuffer (to transfer to or from a worker, or hand to an API that takes one). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A byte count for people: "512 bytes", "8.0 KiB", "1.0 GiB". */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** At most `max` items, then "and N more": a message never grows with its input. */
export function listSome(items: readonly string[], max = 5, separator = ', '): string {
  if (items.length <= max) return items.join(separator);
  return `${items.slice(0, max).join(separator)}${separator}and ${(items.length - max).toLocaleString('en-US')} more`;
}
