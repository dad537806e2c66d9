/** The exact bytes of a view as their own ArrayBuffer (to transfer to or from a worker, or hand to an API that takes one). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
