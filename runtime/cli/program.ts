import { addExamples } from "./examples.ts";
import type { Command } from "commander";
import { rootCommand } from "./base.ts";
import { registerConfig } from "./commands/config.ts";
import { registerUp } from "./commands/up.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerPub } from "./commands/pub.ts";
import { registerGet } from "./commands/get.ts";
import { registerHistory } from "./commands/history.ts";
import { registerIndex } from "./commands/index.ts";
import { registerStatus } from "./commands/status.ts";
import { registerTrace } from "./commands/trace.ts";
import { registerReplay } from "./commands/replay.ts";
import { registerCluster } from "./commands/cluster.ts";
import { registerCheck } from "./commands/check.ts";
import { registerActor } from "./commands/actor.ts";
import { registerDlq } from "./commands/dlq.ts";
import { registerRouter } from "./commands/router.ts";
import { registerRoute } from "./commands/route.ts";
import { registerQuarantine, registerUnrouted } from "./commands/set-aside.ts";
import { registerScaffold } from "./commands/scaffold.ts";
import { registerServer } from "./commands/server.ts";
import { registerStore } from "./commands/store.ts";
import { registerConsole } from "./commands/console.ts";
import { registerState } from "./commands/state.ts";
import { registerProjection } from "./commands/projection.ts";
import { registerAggregate } from "./commands/aggregate.ts";

/**
 * The whole `jetbus` command tree, built without parsing anything: main.ts parses argv with it,
 * and tests render every subcommand's help in one process instead of spawning one per command.
 */
export function buildProgram(): Command {
  const program = rootCommand();

  registerScaffold(program);
  registerDemo(program);
  registerUp(program);
  registerConfig(program);
  registerRouter(program);
  registerRoute(program);
  registerPub(program);
  registerGet(program);
  registerHistory(program);
  registerIndex(program);
  registerStore(program);
  registerStatus(program);
  registerTrace(program);
  registerReplay(program);
  registerCluster(program);
  registerCheck(program);
  registerActor(program);
  registerDlq(program);
  registerServer(program);
  registerQuarantine(program);
  registerUnrouted(program);
  registerConsole(program);
  registerState(program);
  registerProjection(program);
  registerAggregate(program);
  addExamples(program);
  return program;
}
