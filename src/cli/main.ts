import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { exitCode, report, resetExitCode } from './action.js';
import { EXIT_OK, EXIT_USAGE } from './cli-errors.js';
import { conductorCommand } from './commands/conductor.js';
import { dashboardCommand } from './commands/dashboard.js';
import { graphCommand } from './commands/graph.js';
import { jobsCommand } from './commands/jobs.js';
import { runsCommand } from './commands/runs.js';
import { workerCommand } from './commands/worker.js';

/** The program: `taskweave runs|jobs|graph|conductor|worker|dashboard …`. */
export function program(): Command {
  const root = new Command('taskweave')
    .description('See and steer taskweave runs and jobs stored in Redis.')
    .version(packageVersion(), '-V, --version', "print taskweave's version")
    .addOption(new Option('--redis <url>', 'Redis URL (default: REDIS_URL, then redis://127.0.0.1:6379)'))
    .addOption(new Option('--prefix <prefix>', 'key prefix of the store and job board (default: tw)'))
    .option('--json', 'print one JSON document on stdout instead of text for people')
    .option('--verbose', 'print stack traces of errors')
    .option('--deadline-ms <ms>', 'how long to wait for an unavailable Redis before failing (default: 5000)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  root.addCommand(runsCommand());
  root.addCommand(jobsCommand());
  root.addCommand(graphCommand());
  root.addCommand(conductorCommand());
  root.addCommand(workerCommand());
  root.addCommand(dashboardCommand());
  // Every sub-command throws instead of exiting, so usage errors get exit code 2.
  const override = (command: Command) => {
    command.exitOverride().configureOutput({ outputError: (t, w) => w(t) });
    command.commands.forEach(override);
  };
  override(root);
  return root;
}

/** The package's version: its package.json is two folders up from src/cli, three from dist/src/cli. */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const found = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (found.name === 'taskweave' && found.version) return found.version;
    } catch {
      // not there: the other layout
    }
  }
  return 'unknown';
}

/** Run the CLI with `argv` (as process.argv); resolves the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  resetExitCode();
  try {
    await program().parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are not errors.
      if (error.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    return report(error, argv.includes('--verbose'));
  }
  return exitCode();
}

export { markTypeScriptLoaded } from './load-flows.js';
