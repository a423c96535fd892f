/**
 * Every error jetbus raises on purpose, one file per domain under errors/: flat classes, each with a
 * stable `code` (ErrorCode, mapped to exit codes in cli/exit.ts). The classes live beside errors/base.ts
 * rather than here so that no class extends JetbusError before its module has defined it (a cycle
 * between this file and the domain files would do that); this file only re-exports.
 */
export * from "./errors/base.ts";
export * from "./errors/aggregate-errors.ts";
export * from "./errors/command-errors.ts";
export * from "./errors/config-errors.ts";
export * from "./errors/event-errors.ts";
export * from "./errors/handler-errors.ts";
export * from "./errors/nats-server-errors.ts";
export * from "./errors/projection-errors.ts";
export * from "./errors/store-errors.ts";
export * from "./errors/transient-errors.ts";
