// The server kind's part of `slurmray doctor`: the queue dir an admin makes once, root's, sticky and open to
// all; anything else is refused (a dir another user made could be swapped).
import type { ServerTargetConfig, TargetConfig } from "../../config/schema.js";
import { quote } from "../../util/shell.js";
import { type Check, checkStatus, type KindDoctor } from "../doctor.js";
import { DEFAULT_QUEUE_DIR } from "./queue-cli.js";

const queueDir = (target: TargetConfig): string => (target as ServerTargetConfig).queue_dir ?? DEFAULT_QUEUE_DIR;

function probe(target: TargetConfig): string {
  const dir = quote(queueDir(target));
  return `if [ -d ${dir} ] && [ ! -L ${dir} ]; then echo "queue_dir=$(stat -c '%u %a' ${dir} 2>/dev/null)"; else echo "queue_dir=missing"; fi`;
}

function checks(target: TargetConfig, facts: ReadonlyMap<string, string>): Check[] {
  const dir = queueDir(target);
  const found = facts.get("queue_dir") ?? "missing";
  const fix = `ask an admin of the server to run once: sudo install -d -m 1777 -o root -g root ${dir}`;
  if (found === "missing") return [{ name: "queue dir", status: "fail", detail: `${dir} does not exist`, fix }];
  const [uid, mode] = found.split(" ");
  const safe = uid === "0" && mode === "1777";
  const why = safe ? "" : " (must be root's, mode 1777: a dir another user made could be swapped)";
  return [{ name: "queue dir", status: checkStatus(safe), detail: `${dir}: owner uid ${uid}, mode ${mode}${why}`, fix }];
}

export const serverDoctor: KindDoctor = { probe, checks };
