import { InputError } from "../../util/errors.js";

/**
 * A requirement, marker, version or requirements-file line that cannot be understood. Exit code 2: it is
 * raised locally, before anything is sent. `detail` is the reason alone; `source` ("file:line") is set when
 * the text came from a file, and then leads the message.
 */
export class RequirementError extends InputError {
  readonly detail: string;
  readonly source: string | null;
  constructor(detail: string, source: string | null = null) {
    super(source ? `${source}: ${detail}` : detail);
    this.detail = detail;
    this.source = source;
  }
}
