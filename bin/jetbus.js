#!/usr/bin/env node
// The jetbus command. The runtime is TypeScript run through tsx, so there is no build step.
import { register } from "tsx/esm/api";

register();
await import("../runtime/cli/main.ts");
