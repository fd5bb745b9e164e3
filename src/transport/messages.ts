// Connection and host-key errors, worded once for both SSH transports: what is wrong and how to fix it.
import { ConnectionError, HostKeyError } from "../util/errors.js";

export function unknownHostKey(target: string, fingerprints: readonly string[]): HostKeyError {
  const shown = fingerprints.length ? `\nThe server presented:\n  ${fingerprints.join("\n  ")}` : "";
  return new HostKeyError(
    `The host key of ${target} is not known, so slurmray refused to connect.${shown}\n` +
      "If you trust this server (compare the fingerprint with what its administrators publish), " +
      "re-run with --accept-new-host-key to record it in your known_hosts.",
  );
}

export function changedHostKey(target: string, fingerprint?: string): HostKeyError {
  const shown = fingerprint ? ` It now presents ${fingerprint}.` : "";
  return new HostKeyError(
    `The host key of ${target} has CHANGED since it was recorded in your known_hosts.${shown} ` +
      "This can mean someone is intercepting the connection, so slurmray refused to connect " +
      "(--accept-new-host-key does not override this). If the administrators confirm the server was " +
      `re-keyed, remove the old entry (ssh-keygen -R '${target}') and connect again.`,
  );
}

export function authenticationFailed(user: string, target: string, detail = ""): ConnectionError {
  return new ConnectionError(
    `Authentication as ${user} on ${target} failed${detail ? ` (${detail})` : ""}. ` +
      "Check the user name, set identity_file for this target, load your key into ssh-agent (ssh-add), " +
      "or provide a password (prompt, or SLURMRAY_PASSWORD).",
  );
}

export function connectionFailed(target: string, detail: string): ConnectionError {
  return new ConnectionError(`Could not connect to ${target}: ${detail.trim() || "unknown error"}`);
}

export function connectionLost(target: string): ConnectionError {
  return new ConnectionError(`The connection to ${target} was lost. Check the network and run the command again.`);
}
