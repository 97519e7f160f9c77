/**
 * Routing: which clearance center receives a declaration. Pure decisions (no I/O) plus one small async
 * helper that reads the capacity ledger and the center states and reserves the capacity.
 *
 * Rules, in order:
 * 1. only centers whose `districts` include the declaration's customs district (关区) are eligible;
 *    none → NoCenterForDistrictError;
 * 2. an interrupted center is skipped while another eligible center is not interrupted; when every
 *    eligible center is interrupted the declaration still goes to one (it waits in that queue);
 * 3. among the remaining ones, the most capacity left today (dailyCapacity − used) wins; ties keep the
 *    registry's order. A center with no capacity left is still chosen when it is the only choice —
 *    capacity steers load, it never refuses a declaration.
 */

export interface RoutableCenter {
  code: string;
  districts: readonly string[];
  dailyCapacity: number;
}

export interface RoutingInput {
  customsCode: string;
  centers: readonly RoutableCenter[];
  /** Declarations already routed to each center today (missing = 0). */
  usedToday: Readonly<Record<string, number>>;
  /** Codes of centers currently marked interrupted. */
  interrupted: ReadonlySet<string>;
}

export interface RouteDecision {
  center: string;
  /** Capacity left today at the chosen center before this declaration. */
  remaining: number;
  /** Every eligible center is interrupted: the declaration will wait in the chosen center's queue. */
  allInterrupted: boolean;
  /** Eligible centers that were considered, with what was left of their capacity. */
  candidates: { code: string; remaining: number; interrupted: boolean }[];
}

export class NoCenterForDistrictError extends Error {
  constructor(
    public readonly customsCode: string,
    public readonly knownCenters: readonly string[],
  ) {
    super(
      `no clearance center serves customs district ${customsCode} (centers: ${knownCenters.join(', ') || 'none'}); add it to a center's districts in config/centers.json`,
    );
    this.name = 'NoCenterForDistrictError';
  }
}

export function chooseCenter(input: RoutingInput): RouteDecision {
  const eligible = input.centers.filter((c) => c.districts.includes(input.customsCode));
  if (eligible.length === 0)
    throw new NoCenterForDistrictError(
      input.customsCode,
      input.centers.map((c) => c.code),
    );
  const candidates = eligible.map((c) => ({
    code: c.code,
    remaining: c.dailyCapacity - (input.usedToday[c.code] ?? 0),
    interrupted: input.interrupted.has(c.code),
  }));
  const available = candidates.filter((c) => !c.interrupted);
  const pool = available.length > 0 ? available : candidates;
  let best = pool[0] as (typeof pool)[number];
  for (const c of pool) if (c.remaining > best.remaining) best = c;
  return { center: best.code, remaining: best.remaining, allInterrupted: available.length === 0, candidates };
}

/** The capacity day: calendar day in China Standard Time (UTC+8), where the centers' quotas reset. */
export function capacityDay(at: Date = new Date()): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** Capacity usage per center per day. Implementation: src/centers/capacity-ledger.ts over src/store/capacity.ts. */
export interface CapacityLedger {
  /** How many declarations each center has been given on `day` (YYYY-MM-DD); missing = 0. */
  usedOn(day: string, centers: readonly string[]): Promise<Record<string, number>>;
  /** Atomically adds `count` to a center's counter for `day`; returns the new total. */
  consume(center: string, day: string, count?: number): Promise<number>;
}

/** Where routing learns which centers are interrupted (the health monitor's state store). */
export interface InterruptionSource {
  interruptedCenters(): Promise<ReadonlySet<string>>;
}

/**
 * Routes `count` declarations of one order (they must reach the same center so the three-documents
 * check can see them together) and reserves the capacity in the ledger.
 */
export async function routeAndReserve(
  customsCode: string,
  centers: readonly RoutableCenter[],
  ledger: CapacityLedger,
  states: InterruptionSource,
  options: { count?: number; at?: Date } = {},
): Promise<RouteDecision & { day: string; usedAfter: number }> {
  const day = capacityDay(options.at);
  const eligible = centers.filter((c) => c.districts.includes(customsCode));
  if (eligible.length === 0)
    throw new NoCenterForDistrictError(
      customsCode,
      centers.map((c) => c.code),
    );
  const [usedToday, interrupted] = await Promise.all([
    ledger.usedOn(
      day,
      eligible.map((c) => c.code),
    ),
    states.interruptedCenters(),
  ]);
  const decision = chooseCenter({ customsCode, centers: eligible, usedToday, interrupted });
  const usedAfter = await ledger.consume(decision.center, day, options.count ?? 1);
  return { ...decision, day, usedAfter };
}

/**
 * Routing for a busy gateway: the same rules as routeAndReserve, but the ledger's usage and the center
 * states are read at most once per `ttlMs` (default 1 s) for all centers, shared by every order routed
 * meanwhile, and this process's own reservations are added to that view at once (so the orders of one
 * batch see each other and split between centers as they would one by one). The reservation itself still
 * goes to the ledger for every order (CoalescingCapacityLedger merges concurrent ones into one `$inc`).
 *
 * What it trades: another gateway's reservations and a center's interruption are seen up to `ttlMs`
 * late. Capacity only steers load (it never refuses), and an interrupted center's declarations wait in
 * its queue, so a one-second-old view changes where a few declarations go, never whether they go.
 * Per order it saves two reads (usage, states) that cost ~25 ms each on FerretDB under load.
 */
export class RoutingView {
  private snapshot?: {
    day: string;
    fetchedAt: number;
    usedToday: Record<string, number>;
    interrupted: ReadonlySet<string>;
  };
  private refreshing?: Promise<void>;

  constructor(
    private readonly centers: readonly RoutableCenter[],
    private readonly ledger: CapacityLedger,
    private readonly states: InterruptionSource,
    private readonly options: { ttlMs?: number; clock?: () => number } = {},
  ) {}

  private now(): number {
    return this.options.clock?.() ?? Date.now();
  }

  private async current(day: string): Promise<NonNullable<RoutingView['snapshot']>> {
    const ttl = this.options.ttlMs ?? 1000;
    while (!this.snapshot || this.snapshot.day !== day || this.now() - this.snapshot.fetchedAt >= ttl) {
      this.refreshing ??= this.refresh(day).finally(() => (this.refreshing = undefined));
      await this.refreshing;
      if (this.snapshot?.day === day) break; // fresh enough: it was fetched for this call
    }
    return this.snapshot!;
  }

  private async refresh(day: string): Promise<void> {
    const fetchedAt = this.now();
    const [usedToday, interrupted] = await Promise.all([
      this.ledger.usedOn(
        day,
        this.centers.map((c) => c.code),
      ),
      this.states.interruptedCenters(),
    ]);
    // Reservations confirmed while the read was in flight may be missing from it: keep the higher count.
    const previous = this.snapshot?.day === day ? this.snapshot.usedToday : {};
    const merged: Record<string, number> = { ...usedToday };
    for (const [code, used] of Object.entries(previous)) merged[code] = Math.max(used, merged[code] ?? 0);
    this.snapshot = { day, fetchedAt, usedToday: merged, interrupted };
  }

  /** Routes `count` declarations of one order and reserves them; same result shape as routeAndReserve. */
  async route(
    customsCode: string,
    options: { count?: number; at?: Date } = {},
  ): Promise<RouteDecision & { day: string; usedAfter: number }> {
    const day = capacityDay(options.at);
    const eligible = this.centers.filter((c) => c.districts.includes(customsCode));
    if (eligible.length === 0)
      throw new NoCenterForDistrictError(
        customsCode,
        this.centers.map((c) => c.code),
      );
    const view = await this.current(day);
    const decision = chooseCenter({
      customsCode,
      centers: eligible,
      usedToday: view.usedToday,
      interrupted: view.interrupted,
    });
    const count = options.count ?? 1;
    view.usedToday[decision.center] = (view.usedToday[decision.center] ?? 0) + count;
    const usedAfter = await this.ledger.consume(decision.center, day, count);
    if (this.snapshot?.day === day)
      this.snapshot.usedToday[decision.center] = Math.max(this.snapshot.usedToday[decision.center] ?? 0, usedAfter);
    return { ...decision, day, usedAfter };
  }
}
