/**
 * What the CLI gives the shell around it: its version, completion scripts for bash and zsh, and the arguments of
 * the kubectl plugin (`kubectl model-rollout ...`).
 */
import * as fs from 'fs';
import * as path from 'path';

/**
 * The package's version, from the package.json above this file: the sources (`src/controller/cli`) and the bundle
 * (`assets/controller/cli/main`) both sit under the package root.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === 'cdk-model-rollout') return String(pkg.version);
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/** Commands and the options each takes, for completion. */
export interface CompletionWords {
  readonly commands: readonly string[];
  readonly options: Readonly<Record<string, readonly string[]>>;
}

/**
 * A bash completion script: commands first, then the command's options; `--kube` rollouts are completed from
 * `model-rollout list --kube -o json` (the user's kubeconfig and any -n given so far).
 * `complete -F` and `COMPREPLY` are bash's programmable completion (bash manual, "Programmable Completion").
 */
export function bashCompletion(words: CompletionWords): string {
  const cases = Object.entries(words.options)
    .map(([cmd, opts]) => `    ${cmd}) opts="${opts.join(' ')}" ;;`).join('\n');
  return `# model-rollout bash completion: source <(model-rollout completion bash)
_model_rollout() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${words.commands.join(' ')} --help --version" -- "$cur") )
    return 0
  fi
  cmd="\${COMP_WORDS[1]}"
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [ "$cmd" = "completion" ]; then
    COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") )
    return 0
  fi
  if [ "$cmd" = "plan" ] && [[ "$cur" != -* ]]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
    return 0
  fi
  if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]] && [ "$cmd" != "list" ] && [ "$cmd" != "dashboard" ]; then
    local names
    names=$(model-rollout list --kube -o json 2>/dev/null | sed -n 's/.*"rollout": "\\([^"]*\\)".*/\\1/p')
    COMPREPLY=( $(compgen -W "$names" -- "$cur") )
    return 0
  fi
  COMPREPLY=( $(compgen -W "$opts --help" -- "$cur") )
}
complete -F _model_rollout model-rollout
`;
}

/** zsh: the bash script through zsh's bash-completion layer (`bashcompinit`, zsh manual, "Completion System"). */
export function zshCompletion(words: CompletionWords): string {
  return `# model-rollout zsh completion: source <(model-rollout completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(words).split('\n').slice(1).join('\n')}`;
}

/**
 * Arguments of `kubectl model-rollout ...`: kubectl runs `kubectl-model_rollout` with the words after the plugin's
 * name (https://kubernetes.io/docs/tasks/extend-kubectl/kubectl-plugins/: "a plugin named kubectl-foo_bar ... can be
 * invoked as kubectl foo-bar"). Through kubectl the target is the cluster: `--kube` is implied unless `--aws` is given.
 */
export function kubectlPluginArgs(argv: readonly string[]): string[] {
  const [verb] = argv;
  const targetless = verb === undefined || verb.startsWith('-') || ['plan', 'completion', 'help'].includes(verb);
  if (targetless || argv.includes('--aws') || argv.includes('--kube')) return [...argv];
  return [...argv, '--kube'];
}
