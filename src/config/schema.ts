// The slurmray.toml schema. Every key is optional; unknown keys are refused (strict objects) so a typo
// is caught before anything runs. Messages are produced by ./errors.ts from zod's issues.
import { z } from "zod";
import { MEM_MAX_GB, WHOLE_LIMITS } from "../model/resource-limits.js";

const whole = ({ min, max }: { min: number; max: number }) => z.number().int().min(min).max(max);
const safeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' or '-', starting with a letter or digit");
const pythonVersion = z.string().regex(/^3\.\d{1,2}$/, 'a Python major.minor such as "3.11"');
const relPath = z.string().min(1).refine((p) => !p.includes("\0"), "no NUL bytes");

export const resourceDefaultsSchema = z.strictObject({
  nodes: whole(WHOLE_LIMITS.nodes).optional(),
  cpus: whole(WHOLE_LIMITS.cpus).optional(),
  mem: z.number().positive().max(MEM_MAX_GB).optional(),
  gpus: whole(WHOLE_LIMITS.gpus).optional(),
  time: whole(WHOLE_LIMITS.time).optional(),
});

const sshTargetKeys = {
  host: z.string().min(1).regex(/^[^\s'"`$;&|<>\\]+$/, "a hostname or ~/.ssh/config alias without spaces or shell characters"),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, "a valid login name").optional(),
  identity_file: z.string().min(1).optional(),
  ssh_config: z.string().min(1).optional(),
  known_hosts: z.string().min(1).optional(),
  base_dir: z.string().min(1).optional(),
  transport: z.enum(["openssh", "ssh2"]).optional(),
  python: pythonVersion.optional(),
  allow_python_install: z.boolean().optional(),
  install_uv: z.boolean().optional(),
  defaults: resourceDefaultsSchema.optional(),
};

export const slurmTargetSchema = z.strictObject({
  kind: z.literal("slurm"),
  ...sshTargetKeys,
  partition: safeName.optional(),
  account: safeName.optional(),
  qos: safeName.optional(),
  constraint: z.string().min(1).optional(),
  modules: z.array(z.string().min(1)).optional(),
  sbatch: z.array(z.string().min(1)).optional(),
  setup: z.array(z.string().min(1)).optional(),
  max_retries: z.number().int().min(0).max(10).optional(),
});

export const serverTargetSchema = z.strictObject({
  kind: z.literal("server"),
  ...sshTargetKeys,
  queue_dir: z.string().regex(/^\/[A-Za-z0-9_@+=:,./-]*$/, "an absolute path without spaces or shell characters").optional(),
  limits: z
    .strictObject({
      cpus: whole(WHOLE_LIMITS.cpus).optional(),
      mem: z.number().positive().optional(),
      gpus: z.array(z.number().int().min(0)).optional(),
    })
    .optional(),
});

export const localTargetSchema = z.strictObject({
  kind: z.literal("local"),
  base_dir: z.string().min(1).optional(),
  defaults: resourceDefaultsSchema.optional(),
});

export const targetSchema = z.discriminatedUnion("kind", [slurmTargetSchema, serverTargetSchema, localTargetSchema]);

export const projectSchema = z.strictObject({
  name: safeName.optional(),
  default_target: safeName.optional(),
  python: pythonVersion.optional(),
  interpreter: z.string().min(1).optional(),
  files: z.array(relPath).optional(),
  exclude: z.array(relPath).optional(),
  strict_versions: z.boolean().optional(),
  snapshot: z.enum(["top-level", "full"]).optional(),
  requirements: relPath.optional(),
  ray: z.boolean().optional(),
  pool: z.enum(["ray"]).optional(),
  // At least one day: 0 would remove every finished job's dir (its result and log) at the next run.
  retention_days: z.number().int().min(1).max(3650).optional(),
  max_upload_mb: z.number().positive().optional(),
  max_file_mb: z.number().positive().optional(),
  outputs: z
    .string()
    .regex(/^(?!\.\.?\/?$)[^/\0]+\/?$/, 'a folder name such as "outputs" (one level: no "/" inside, not "." or "..")')
    .optional(),
});

export const configFileSchema = z.strictObject({
  project: projectSchema.optional(),
  targets: z.record(safeName, targetSchema).optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type SlurmTargetConfig = z.infer<typeof slurmTargetSchema>;
export type ServerTargetConfig = z.infer<typeof serverTargetSchema>;
export type ProjectConfig = z.infer<typeof projectSchema>;
export type ResourceDefaults = z.infer<typeof resourceDefaultsSchema>;
