import { injectable } from "tsyringe";
import type { ActorHandler } from "../runtime/actor/types.ts";

/** Does nothing and acks: measures the runtime's own cost per event (benchmarks, smoke tests). */
@injectable()
export class NoopHandler implements ActorHandler {
  async handle(): Promise<void> {}
}
