/**
 * How the outside world (the worker's message handler, the CLI's Ctrl-C) steers a running
 * training loop: pause, resume and stop are flags the loop reads between steps.
 *
 * Where ops compute as they are issued (wasm, cpu) a step runs to its end before the worker
 * reads another message: minutes at real size. So the page also sets a shared flag as its
 * pause or stop request leaves (`interrupt`, a SharedArrayBuffer's first int32), which the
 * trainer reads between a step's layers: it abandons the step (nothing of it applied) and
 * waits for the request itself.
 */
/** How long an abandoned step waits for the pause or stop request that set the flag. */
const INTERRUPT_WAIT_MS = 2000;

/** Pause/resume/stop, set from outside the loop (the worker's message handler). */
export class RunControl {
  paused = false;
  stopped = false;
  private wake: (() => void) | null = null;
  private reachedPause: (() => void)[] = [];

  /** `interrupt`: the flag a page sets ahead of its pause or stop request; a new run starts with it clear. */
  constructor(private readonly interrupt: Int32Array | null = null) {
    if (interrupt) Atomics.store(interrupt, 0, 0);
  }

  /** A pause or stop request is on its way (read between a step's layers). */
  interruptRequested(): boolean {
    return this.interrupt !== null && Atomics.load(this.interrupt, 0) !== 0;
  }

  /**
   * After abandoning a step for an interrupt: waits until its request has arrived (it clears
   * the flag), or INTERRUPT_WAIT_MS if it never comes, then clears the flag either way.
   */
  async settleInterrupt(): Promise<void> {
    const until = performance.now() + INTERRUPT_WAIT_MS;
    while (this.interruptRequested() && performance.now() < until) await new Promise<void>((r) => setTimeout(r, 5));
    if (this.interrupt) Atomics.store(this.interrupt, 0, 0);
  }

  pause(): void {
    this.paused = true;
    if (this.interrupt) Atomics.store(this.interrupt, 0, 0);
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.interrupt) Atomics.store(this.interrupt, 0, 0);
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
