import type { Timer } from '../../../../consensus/timer.js';

/** One pending event of the simulation: runs `fire` at virtual time `at`. */
interface SimEvent {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

/**
 * The simulation's one clock and event queue. Events run in (time, insertion) order, so a run
 * depends only on what was scheduled — never on wall-clock time.
 */
export class Scheduler {
  private heap: SimEvent[] = [];
  private seq = 0;
  private _now: number;
  private _fired = 0;

  constructor(start: number) {
    this._now = start;
  }

  get now(): number {
    return this._now;
  }

  /** Events fired so far. */
  get fired(): number {
    return this._fired;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Schedules `fire` after `delayMs` (>= 0) of virtual time; returns a handle for `cancel`. */
  at(delayMs: number, fire: () => void): SimEvent {
    if (!(delayMs >= 0)) throw new RangeError(`cannot schedule ${delayMs} ms into the past`);
    const ev: SimEvent = { at: this._now + Math.floor(delayMs), seq: this.seq++, fire, cancelled: false };
    this.push(ev);
    return ev;
  }

  cancel(handle: unknown): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as SimEvent).cancelled = true;
  }

  /** The time of the next live event, if any. */
  peekTime(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Advances the clock to the next live event and fires it; false when nothing is left. */
  step(): boolean {
    this.dropCancelled();
    const ev = this.pop();
    if (!ev) return false;
    this._now = ev.at;
    this._fired++;
    ev.fire();
    return true;
  }

  /** Moves the clock forward to `t` without firing anything (only if no event is due before it). */
  advanceTo(t: number): void {
    const next = this.peekTime();
    if (next !== undefined && next < t) throw new RangeError('advanceTo would skip a pending event');
    if (t > this._now) this._now = t;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * A node's view of the simulated clock, implementing consensus's `Timer`. Each incarnation of a
 * node gets its own, so a crash cancels exactly that incarnation's timers.
 */
export class VirtualTimer implements Timer {
  private readonly live = new Set<unknown>();
  private dead = false;

  constructor(private readonly scheduler: Scheduler) {}

  now(): number {
    return this.scheduler.now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    if (this.dead) return undefined;
    const h = this.scheduler.at(Math.max(0, ms), () => {
      this.live.delete(h);
      if (!this.dead) fn();
    });
    this.live.add(h);
    return h;
  }

  clearTimeout(handle: unknown): void {
    if (!this.live.delete(handle)) return;
    this.scheduler.cancel(handle);
  }

  /** Timers pending for this incarnation. */
  get pending(): number {
    return this.live.size;
  }

  /** The process died: cancel every pending timer and refuse new ones. */
  kill(): void {
    this.dead = true;
    for (const h of this.live) this.scheduler.cancel(h);
    this.live.clear();
  }
}
