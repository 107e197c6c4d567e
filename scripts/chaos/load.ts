/**
 * Steady load for the chaos run: a few HTTP clients POSTing votes in a loop, each recording
 * every 202 it gets (id, option, created_at, when) and counting the 503s it was refused with.
 */

export interface AcceptedVote {
  id: number;
  option: string;
  createdAt: number;
  /** When the client received the 202 (epoch ms). */
  acceptedAt: number;
}

export const OPTIONS = ["option1", "option2", "option3", "ünïcødé"];

export class Load {
  readonly accepted: AcceptedVote[] = [];
  refused = 0;
  /** 503s by problem type, for the report of a run that did not recover. */
  readonly refusedBy = new Map<string, number>();
  /** Answers that are neither 202 nor 503 (a 5xx other than 503 fails the run). */
  readonly unexpected: string[] = [];
  networkErrors = 0;
  #paused = false;
  #inFlight = 0;
  #stopped = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    private readonly clients: number,
    private readonly pauseMs: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.clients; i++) this.#loops.push(this.#client(i));
  }

  /** Stops sending; resolves once no request is in flight (its 202, if any, recorded). */
  async pause(): Promise<void> {
    this.#paused = true;
    while (this.#inFlight > 0) await sleep(5);
  }

  resume(): void {
    this.#paused = false;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  async #client(n: number): Promise<void> {
    let turn = n;
    while (!this.#stopped) {
      if (this.#paused) {
        await sleep(10);
        continue;
      }
      const option = OPTIONS[turn++ % OPTIONS.length] as string;
      this.#inFlight++;
      try {
        const answer = await fetch(`${this.url}/votes`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ option }),
          signal: AbortSignal.timeout(5_000),
        });
        const body = (await answer.json()) as {
          id: number;
          option: string;
          created_at: string;
          type?: string;
        };
        if (answer.status === 202) {
          this.accepted.push({
            id: body.id,
            option: body.option,
            createdAt: Date.parse(body.created_at),
            acceptedAt: Date.now(),
          });
        } else if (answer.status === 503) {
          this.refused++;
          const type = body.type ?? "?";
          this.refusedBy.set(type, (this.refusedBy.get(type) ?? 0) + 1);
          await sleep(50);
        } else {
          this.unexpected.push(`${answer.status} ${JSON.stringify(body)}`);
        }
      } catch {
        this.networkErrors++;
        await sleep(50);
      } finally {
        this.#inFlight--;
      }
      await sleep(this.pauseMs);
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
