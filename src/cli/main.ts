/**
 * `perf-lens` command line. Exit codes: the command's own for `run`; 2 for bad arguments or an
 * unreadable report; 1 for an unsupported Node.js.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import { version } from '../../package.json';
import { FORMATS, formatReport, type Format } from '../model/format';
import { ReportFormatError, parseReportText } from '../model/report-schema';
import { MODES, type Mode } from '../protocol/runtime';
import { runCommand, UsageError } from './run';
import { nodeVersionProblem } from './node-version';

export const EXIT_USAGE = 2;

function positiveInt(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer.`);
    return n;
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface RunFlags {
  out?: string;
  quiet?: boolean;
  format: Format;
  mode: Mode;
  sampleEvery?: number;
  includeNodeModules?: boolean;
  include: string[];
  exclude: string[];
  top?: number;
  grace: number;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('perf-lens')
    .description('Time every function of a Node.js program and report where the time goes.')
    .version(version, '-V, --version', 'print the perf-lens version')
    .helpOption('-h, --help', 'show help')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(run `perf-lens --help` for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program.addHelpText(
    'after',
    `
Examples:
  perf-lens run -- node app.js
  perf-lens run --out perf.json --quiet -- npm test
  perf-lens run --mode full --include 'src/**' -- npx tsx src/main.ts
  perf-lens report perf.json --format md

Exit status: \`run\` exits with the command's own code (128 + N when signal N ended it);
2 means bad arguments or an unreadable report.`,
  );

  program
    .command('run')
    .description('run a command with every Node.js process it starts measured, then print a summary')
    .usage('[options] -- <command> [args...]')
    .argument('<command...>', 'the command to run (no shell), e.g. `node app.js`, `npm test`, `npx tsx a.ts`')
    .option('-o, --out <file>', 'write the JSON report (schemaVersion 1) to this file')
    .option('-q, --quiet', 'print nothing of our own (the command\'s output is untouched)')
    .addOption(new Option('-f, --format <format>', 'summary format printed to stderr').choices(FORMATS).default('table'))
    .addOption(new Option('-m, --mode <mode>', 'timing mode: adaptive samples hot cheap functions; full times every call; sampled times 1 in N; count only counts').choices(MODES).default('adaptive'))
    .option('--sample-every <n>', 'with --mode sampled: time 1 call in N (default 64)', positiveInt('--sample-every'))
    .option('--include-node-modules', 'also measure code under node_modules')
    .option('--include <glob>', 'only measure files matching this glob (repeatable; relative to the cwd)', collect, [])
    .option('--exclude <glob>', 'do not measure files matching this glob (repeatable)', collect, [])
    .option('--top <n>', 'rows in the table/md summary (default 20)', positiveInt('--top'))
    .option('--grace <ms>', 'wait this long after the command exits for processes it left running', nonNegativeInt('--grace'), 2000)
    .passThroughOptions()
    .action(async (command: string[], flags: RunFlags) => {
      const code = await runCommand(command, {
        out: flags.out,
        quiet: flags.quiet === true,
        format: flags.format,
        mode: flags.mode,
        sampleEvery: flags.sampleEvery,
        includeNodeModules: flags.includeNodeModules === true,
        include: flags.include,
        exclude: flags.exclude,
        top: flags.top,
        graceMs: flags.grace,
      });
      setExit(code);
    });

  program
    .command('report')
    .description('print a saved report again, in any format (to stdout)')
    .argument('<report.json>', 'a report written by `perf-lens run --out`')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--top <n>', 'rows in the table/md output (default 20)', positiveInt('--top'))
    .action((file: string, flags: { format: Format; top?: number }) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
        throw new UsageError(`cannot read ${file}: ${why}`);
      }
      let report;
      try {
        report = parseReportText(text);
      } catch (err) {
        if (err instanceof ReportFormatError) throw new UsageError(`${file} is not a valid Perf Lens report: ${err.message}`);
        throw err;
      }
      process.stdout.write(formatReport(report, flags.format, { colors: flags.format === 'table' && process.stdout.isTTY === true, top: flags.top }));
      setExit(0);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    process.stderr.write(`perf-lens: ${problem}\n`);
    return 1;
  }
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    if (err instanceof UsageError) {
      process.stderr.write(`perf-lens: ${err.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`perf-lens: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return 70;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`perf-lens: ${err.stack ?? err.message}\n`);
      process.exitCode = 70;
    },
  );
}
