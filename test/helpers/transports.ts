// Transports that change or watch the commands sent through a real one, for the env tests and benchmarks.
import type { ExecOptions, Transport } from "../../src/transport/types.js";

/** A transport that hands every command to `inner`, after `rewrite` saw it (and changed it, for scripts). */
export function intercept(inner: Transport, rewrite: (script: string) => string): Transport {
  return new Proxy(inner, {
    get(target, property) {
      if (property === "script") {
        return (script: string, args?: readonly string[], options?: Omit<ExecOptions, "stdin">) => target.script(rewrite(script), args, options);
      }
      if (property === "exec") {
        // Commands run as given; `rewrite` only sees them.
        return (argv: readonly string[], options?: ExecOptions) => {
          rewrite(argv.join(" "));
          return target.exec(argv, options);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A remote without uv: every script runs with PATH=/usr/bin:/bin (uv lives in /usr/local/bin). */
export function withoutUv(inner: Transport): Transport {
  return intercept(inner, (script) => `PATH=/usr/bin:/bin; export PATH\n${script}`);
}

