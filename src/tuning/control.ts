/**
 * How the outside world (the worker's message handler, the CLI's Ctrl-C) steers a running
 * training loop: pause, resume and stop are flags the loop reads between steps.
 */
/** Pause/resume/stop, set from outside the loop (the worker's message handler). */
export class RunControl {
  paused = false;
  stopped = false;
  private wake: (() => void) | null = null;
  private reachedPause: (() => void)[] = [];

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Yields to the event loop once, so pause and stop requests get through. */
  async yield(): Promise<void> {
    await new Promise<void>((r) => setTimeout(r, 0));
  }

  /**
   * Resolves once the loop has stopped at a pause: the steps already dispatched have landed
   * and their events are out, so "paused at step N" is exact. (Or never: see StudioEngine.pause.)
   */
  whenPaused(): Promise<void> {
    return new Promise<void>((r) => this.reachedPause.push(r));
  }

  async waitWhilePaused(): Promise<void> {
    if (this.paused && !this.stopped) {
      this.reachedPause.splice(0).forEach((r) => r());
    }
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
  }
}
