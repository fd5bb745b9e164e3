// The environment given to child processes (ssh, local jobs): SLURMRAY_PASSWORD is held in this process's
// memory for as long as it may be needed to authenticate, never passed on in an environment.

const SECRET_VARIABLES = ["SLURMRAY_PASSWORD"];

export function withoutSecrets(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of SECRET_VARIABLES) delete copy[name];
  return copy;
}
