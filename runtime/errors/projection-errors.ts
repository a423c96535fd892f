// Projections (runtime/projection): a definition or configured projection module that cannot be used.
import { ErrorCode, JetbusError } from "./base.ts";

/** A projection definition or configured projection module that cannot be used, naming the projection and what is wrong. */
export class ProjectionInvalidError extends JetbusError {
  override name = "ProjectionInvalidError";
  constructor(
    readonly projection: string,
    message: string,
    cause?: unknown,
  ) {
    super(ErrorCode.ProjectionInvalid, `projection "${projection}": ${message}`, {
      cause,
      hint: "`jetbus config validate` loads every projection module and lists each problem with its JSON path",
    });
  }
}
