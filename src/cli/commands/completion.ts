// slurmray completion bash|zsh|fish prints the shell's completion script; the hidden `__complete` is what that
// script calls on each Tab.
import { Argument, Command } from "@commander-js/extra-typings";
import { type CompletionSources, completionScript, completions, SHELLS } from "../complete.js";

/** Targets from slurmray.toml and job ids from the registry; a broken config or no registry completes nothing. */
async function projectSources(cwd: string): Promise<CompletionSources> {
  const [{ loadConfig, findProjectRoot, targetNames }, { listJobs }] = await Promise.all([import("../../config/load.js"), import("../../jobs/registry.js")]);
  const safely = (read: () => string[]) => {
    try {
      return read();
    } catch {
      return [];
    }
  };
  return {
    targets: () => safely(() => targetNames(loadConfig(cwd).targets)),
    jobIds: () => safely(() => listJobs(findProjectRoot(cwd)).map((job) => job.id)),
  };
}

export function completionCommands() {
  const completion = new Command("completion")
    .description("print the shell completion script (bash: source <(slurmray completion bash))")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .action((shell) => {
      process.stdout.write(completionScript(shell));
    });

  const helper = new Command("__complete")
    .description("candidates for the shell completion scripts")
    .argument("[words...]", "the words after slurmray, the last one being completed")
    .allowUnknownOption()
    .helpOption(false)
    .action(async (words, _options, command) => {
      const root = command.parent!;
      const candidates = completions(root as never, words.length ? words : [""], await projectSources(process.cwd()));
      if (candidates.length) process.stdout.write(`${candidates.join("\n")}\n`);
    });

  return [completion, helper];
}
