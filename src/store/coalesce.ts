/**
 * Merges calls made in the same turn of the event loop into one batch call. On FerretDB/SQLite one
 * insertMany of 50 documents costs about what one insertOne does (writes are serialised), so a worker
 * that marks 50 declarations in parallel should pay for one round trip per collection, not 50.
 */
export class Coalescer<In, Out> {
  private pending: { input: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly runBatch: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch = 200,
  ) {}

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.runBatch(batch.map((b) => b.input)).then(
      (outs) => batch.forEach((b, i) => b.resolve(outs[i]!)),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }
}
