/** Hands bytes to the browser as a download: a Blob, an object URL and a temporary <a download>. */
export function saveFile(fileName: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The click starts the download synchronously; revoking on the next turn is safe.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
