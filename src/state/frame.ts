/**
 * Work batched to the next animation frame: events may arrive hundreds of times a second,
 * the screen only needs the latest state once per frame.
 */
export function frameBatcher(flush: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      flush();
    });
  };
}
