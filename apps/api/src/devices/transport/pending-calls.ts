/**
 * The calls an endpoint has in flight, failed at once when it closes.
 *
 * Racing each call against the endpoint's long-lived `closed` promise leaks: every race leaves a reaction on a
 * promise that settles only when the device goes away, and that reaction keeps the race's result (the device's
 * reply) reachable, so a device that stays up for weeks keeps every reply it ever sent. Here a settled call
 * removes itself, and nothing outlives it.
 */
export class PendingCalls {
  private readonly pending = new Set<(error: Error) => void>();
  private closedWith: Error | null = null;

  /**
   * `work`'s outcome, or the close error if the endpoint closes first, or (with `timeout`) its error once
   * `timeout.ms` pass first. One promise and one timer per call: a simulated fleet makes a dozen calls a sample.
   */
  run<T>(work: Promise<T>, timeout?: { ms: number; error: () => Error }): Promise<T> {
    if (this.closedWith) {
      work.catch(() => undefined);
      return Promise.reject(this.closedWith);
    }
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        clearTimeout(timer);
        this.pending.delete(fail);
      };
      const fail = (error: Error): void => {
        settle();
        reject(error);
      };
      this.pending.add(fail);
      if (timeout) timer = setTimeout(() => fail(timeout.error()), timeout.ms);
      work.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  /** Fails every call in flight and every later one with `error`. */
  close(error: Error): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const reject of this.pending) reject(error);
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
