// What `slurmray __complete -- WORD…` prints for the shell scripts of `slurmray completion`: the candidates for the
// last word, one a line, read from the command tree itself (so a new command or flag completes with no change
// here), with target names from slurmray.toml and job ids from the registry. Nothing printed: the shell
// completes file names (an entry such as path/to/file.py:fn, or --args-file).
import type { Command, Option } from "commander";

export interface CompletionSources {
  targets(): string[];
  jobIds(): string[];
}

export const SHELLS = ["bash", "zsh", "fish"] as const;

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

function findOption(command: Command, word: string): Option | undefined {
  for (let c: Command | null = command; c; c = c.parent) {
    const found = c.options.find((o) => o.long === word || o.short === word);
    if (found) return found;
  }
  return undefined;
}

function visibleOptions(command: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) {
    for (const o of c.options) if (!o.hidden && o.long) names.push(o.long);
  }
  return [...names, "--help"];
}

function valuesFor(name: string, sources: CompletionSources): string[] {
  if (name === "job") return sources.jobIds();
  if (name === "shell") return [...SHELLS];
  if (name === "target") return sources.targets();
  return [];
}

/** `words`: what follows `slurmray` on the command line, the last one being the word under completion. */
export function completions(root: Command, words: readonly string[], sources: CompletionSources): string[] {
  const current = words.at(-1) ?? "";
  let command = root;
  let positional = 0;
  let pendingOption: Option | undefined;
  for (const word of words.slice(0, -1)) {
    if (pendingOption) {
      pendingOption = undefined;
      continue;
    }
    if (word.startsWith("-")) {
      const option = findOption(command, word);
      if (option && takesValue(option)) pendingOption = option;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word);
    if (sub) {
      command = sub;
      positional = 0;
    } else positional++;
  }
  let candidates: string[];
  if (pendingOption) candidates = valuesFor(pendingOption.attributeName(), sources);
  else if (current.startsWith("-")) candidates = visibleOptions(command);
  else if (command.commands.length > 0) candidates = command.commands.filter((c) => !c.name().startsWith("_")).map((c) => c.name());
  else {
    const argument = command.registeredArguments[positional];
    candidates = argument ? valuesFor(argument.name(), sources) : [];
  }
  return candidates.filter((c) => c.startsWith(current));
}

/** The script a shell sources: it asks `slurmray __complete` with the words typed so far. */
export function completionScript(shell: (typeof SHELLS)[number]): string {
  if (shell === "bash") {
    return `# slurmray completion for bash: add to ~/.bashrc:  source <(slurmray completion bash)
_slurmray() {
  local IFS=$'\\n'
  COMPREPLY=($(slurmray __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _slurmray slurmray
`;
  }
  if (shell === "zsh") {
    return `#compdef slurmray
# slurmray completion for zsh: add to ~/.zshrc (after compinit):  source <(slurmray completion zsh)
_slurmray() {
  local -a candidates
  candidates=("\${(@f)$(slurmray __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ -n "\${candidates[1]}" ]]; then
    compadd -- "\${candidates[@]}"
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_slurmray" ]]; then
  _slurmray "$@"
else
  compdef _slurmray slurmray
fi
`;
  }
  return `# slurmray completion for fish: slurmray completion fish > ~/.config/fish/completions/slurmray.fish
function __slurmray_complete
    set -l words (commandline -opc)
    set -l candidates (slurmray __complete -- $words[2..-1] (commandline -ct) 2>/dev/null)
    if test (count $candidates) -gt 0
        printf '%s\\n' $candidates
    else
        __fish_complete_path (commandline -ct)
    end
end
complete -c slurmray -f -a '(__slurmray_complete)'
`;
}
