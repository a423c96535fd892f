import { registerHandler } from "../runtime/actor/registry.ts";
import { EmailHandler } from "./email-handler.ts";
import { NoopHandler } from "./noop-handler.ts";
import { UserHandler } from "./user-handler.ts";

/** Every built-in handler by the name config uses in `actors[].handler` (default: the actor's name). */
registerHandler("user-handler", UserHandler);
registerHandler("email-handler", EmailHandler);
registerHandler("noop", NoopHandler);

export { EmailHandler, NoopHandler, UserHandler };
