import type { TaskChange } from './task-events.js';

/**
 * In-process fan-out of committed task changes to whoever is listening right now (the
 * `/tasks/stream` connections of this process). A wake-up, not a log: a listener that needs
 * every change reads the activity history, and uses this only to read it without delay.
 *
 * @example
 * const unsubscribe = signal.subscribe((change) => wake(change.activity.created_at));
 * signal.emit(change);
 * unsubscribe();
 */
export class TaskChangeSignal {
  private readonly listeners = new Set<(change: TaskChange) => void>();

  subscribe(listener: (change: TaskChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(change: TaskChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /** How many listeners are subscribed (for tests and the stream's connection count). */
  get size(): number {
    return this.listeners.size;
  }
}
