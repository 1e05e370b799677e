/**
 * The `itportal` command, on commander: every command and subcommand has `--help` (exit 0, nothing
 * else done), the program has `--version`, and an unknown option or command is an error naming it
 * (exit 2). Each subcommand's module is loaded only when it runs, so that a cron run of `siem pull`
 * does not load the server, the database drivers and their dependencies.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config.js';
import { isAppError } from '../errors.js';
import { PRODUCT_VERSION } from '../version.js';

const TENANT = new Option('--tenant <id>', 'tenant id (default: the default tenant)');

/** Builds the program; `run(code)` receives each action's exit code. */
export function buildProgram(run: (work: () => Promise<number>) => void): Command {
  const program = new Command('itportal')
    .description(
      'IT Portal: audit trail and SIEM feed. Configuration comes from the environment (DATABASE_URL, DATA_DIR, ...): see README.md.',
    )
    .version(PRODUCT_VERSION, '-v, --version', 'print the version')
    .helpCommand(true)
    .showHelpAfterError('(add --help for usage)');

  program
    .command('serve')
    .description('start the portal (what npm start runs): migrate, make sure a first admin exists, listen')
    .action(() => run(async () => (await import('./serve.js')).serve()));

  program
    .command('migrate')
    .description('apply pending database migrations and report them')
    .action(() => run(async () => (await import('./migrate.js')).migrate()));

  const tenant = program.command('tenant').description('manage tenants (one portal each, by host name)');
  tenant
    .command('create')
    .description('create a tenant answering the given host names')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--host <host...>', 'host name(s) the tenant answers (repeat or list)')
    .option('--json', 'print the tenant as JSON')
    .action((opts: { name: string; host: string[]; json?: boolean }) =>
      run(async () => (await import('./tenant.js')).createTenant(opts)),
    );

  const user = program.command('user').description('manage users');
  user
    .command('create')
    .description(
      'create a user; the password comes from --password-file or ITPORTAL_PASSWORD, or is generated and printed once',
    )
    .requiredOption('--username <name>', 'login name')
    .addOption(new Option('--role <role>', 'role').choices(['admin', 'member']).default('member'))
    .addOption(TENANT)
    .option('--password-file <file>', 'file holding the password (never a flag: ps shows flags)')
    .action((opts: { username: string; role: 'admin' | 'member'; tenant?: string; passwordFile?: string }) =>
      run(async () => (await import('./user.js')).createUser(opts)),
    );

  const key = program
    .command('siem-key')
    .description('issue, list and revoke SIEM API keys (recorded as PolicyChange)');
  key
    .command('issue')
    .description('issue a key; its plaintext is printed once')
    .requiredOption('--description <text>', 'what the key is for (1-200 characters)')
    .option(
      '--allowed-cidrs <list>',
      'addresses allowed to use it, e.g. "10.0.0.0/24, 2001:db8::/32" (default: any)',
      '',
    )
    .addOption(new Option('--tenant <id>', 'tenant id (default: the default tenant)'))
    .option('--json', 'print the key as JSON')
    .action((opts: { description: string; allowedCidrs: string; tenant?: string; json?: boolean }) =>
      run(async () => (await import('./siem-key.js')).issueKey(opts)),
    );
  key
    .command('list')
    .description('list keys (never their secrets) with their last use')
    .addOption(new Option('--tenant <id>', 'tenant id (default: the default tenant)'))
    .option('--json', 'print the list as JSON')
    .action((opts: { tenant?: string; json?: boolean }) =>
      run(async () => (await import('./siem-key.js')).listKeys(opts)),
    );
  key
    .command('revoke')
    .description('revoke a key: refused on its very next request, on every node')
    .argument('<key-id>', 'the key id (the 16 hex digits after itp_siem_)')
    .addOption(new Option('--tenant <id>', 'tenant id (default: the default tenant)'))
    .action((id: string, opts: { tenant?: string }) =>
      run(async () => (await import('./siem-key.js')).revokeKey(id, opts)),
    );

  program
    .command('demo')
    .description('fill a tenant with realistic activity (users, documents, events), with a progress bar')
    .option('--events <n>', 'events to write (0-100000000)', '10000')
    .option('--days <n>', 'days they span (1-3650)', '30')
    .addOption(new Option('--tenant <id>', 'tenant id (default: the default tenant)'))
    .action((opts: { events: string; days: string; tenant?: string }) =>
      run(async () => (await import('./demo.js')).demo(opts)),
    );

  program
    .command('verify')
    .description(
      'prove offline that feed records are Seq 0..N-1 of the log, each exactly once and unaltered, under signed checkpoints (siem pull output in the json format, the default); or, as you state it, Seq N.. of a pull started with --since (--from N), or a filtered pull for inclusion and integrity only (--filtered)',
    )
    .requiredOption(
      '--key-file <file>',
      'the verifier key (Admin Settings → Integrations → SIEM, or GET /api/siem/log/key)',
    )
    .option(
      '--from <seq>',
      'a stated range: the records start at this Seq (a pull started with --since; siem pull kept the frontier there)',
    )
    .option(
      '--filtered',
      'a filtered pull (siem pull --event-type): each record by its own inclusion proof (FILE.proofs); the skipped Seqs are not claimed',
    )
    .option('--json', 'print the outcome as one JSON line')
    .argument('<files...>', "siem pull's output (and rotations, any order) and FILE.checkpoints")
    .action((files: string[], opts: { keyFile: string; json?: boolean; from?: string; filtered?: boolean }) =>
      run(async () => (await import('./verify.js')).verify(opts.keyFile, files, opts)),
    );

  const siem = program.command('siem').description('reference SIEM client');
  siem
    .command('pull')
    .description(
      'follow the feed and write one event a line (NDJSON, or --format), keeping the cursor in a state file (exactly once)',
    )
    .requiredOption(
      '--url <url>',
      'the portal, e.g. https://portal.example.com (or its /api/siem/events URL)',
    )
    .option('--key-file <file>', 'file holding the SIEM key, readable only by you (or set ITPORTAL_SIEM_KEY)')
    .requiredOption(
      '--out <file>',
      'NDJSON output, one event a line; rotated to FILE.1, FILE.2, ... (1 is the oldest)',
    )
    .option('--state <file>', 'cursor and output offset (default: FILE.state.json beside --out)')
    .option('--since <instant>', 'first poll only: events at or after it (ISO 8601)')
    .option('--event-type <list>', 'server-side filter, e.g. Login.Failure,Access.Denied or Login.*')
    .option(
      '--format <name>',
      'wire format: json (default), ocsf, ecs (NDJSON), cef, leef, syslog (one record a line); itportal verify needs json',
      'json',
    )
    .option('--limit <n>', "events per page, 1-5000 (default: the server's, 5000)")
    .option('--interval <seconds>', 'wait between polls once caught up', '300')
    .option('--max-bytes <n>', 'rotate the output past this size', String(100 * 1024 * 1024))
    .option(
      '--max-retries <n>',
      'give up after N retries of a transient failure (default: 5 with --once, else unlimited)',
    )
    .option('--timeout <seconds>', 'per request', '60')
    .option('--once', 'drain until HasMore is false, then exit 0 (for cron)')
    .option('--json-log', 'log JSON lines even on a terminal')
    // Accepted here only so that the pull client can refuse it saying why (a flag shows the key in ps).
    .addOption(new Option('--key <key>').hideHelp())
    .action((_opts: unknown, cmd: Command) =>
      // The pull client parses its own flags (parsePullArgs, also used to check the docs' commands);
      // commander has checked them against the list above.
      run(async () => (await import('./siem-pull.js')).siemPull(pullArgs(cmd))),
    );
  return program;
}

/** The arguments given after `siem pull`, as typed. */
function pullArgs(cmd: Command): string[] {
  const argv = process.argv.slice(2);
  const at = argv.findIndex((a, i) => a === 'pull' && argv[i - 1] === 'siem');
  return at === -1 ? cmd.args : argv.slice(at + 1);
}

function report(command: string, err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (isAppError(err) || err instanceof ConfigError) {
    console.error(`itportal ${command}: ${err.message}`);
    return 1;
  }
  if (err instanceof Error && err.name === 'UsageError') {
    console.error(`itportal ${command}: ${err.message}`);
    return 2;
  }
  throw err;
}

/**
 * Commander checks required options before unknown ones, so `siem pull --bogus` said "required option
 * '--url <url>' not specified" and never named `--bogus`. Required options are checked here instead,
 * in a preAction hook, which runs after the unknown-option check: a typo is named first, and a
 * missing option still gets commander's own message.
 */
function unknownOptionsFirst(program: Command): void {
  const required = new Map<Command, Option[]>();
  const walk = (cmd: Command) => {
    const own = cmd.options.filter((o) => o.mandatory);
    for (const o of own) o.mandatory = false;
    if (own.length > 0) required.set(cmd, own);
    cmd.commands.forEach(walk);
  };
  walk(program);
  program.hook('preAction', (_program, action) => {
    for (const o of required.get(action) ?? []) {
      if (action.getOptionValue(o.attributeName()) === undefined) {
        action.error(`error: required option '${o.flags}' not specified`, {
          code: 'commander.missingMandatoryOptionValue',
          exitCode: 1,
        });
      }
    }
  });
}

export async function runCli(argv: string[]): Promise<number> {
  let pending: Promise<number> | null = null;
  const program = buildProgram((work) => {
    pending = work();
  });
  program.exitOverride();
  for (const sub of program.commands) {
    sub.exitOverride();
    for (const leaf of sub.commands) leaf.exitOverride();
  }
  unknownOptionsFirst(program);
  const command = argv
    .filter((a) => !a.startsWith('-'))
    .slice(0, 2)
    .join(' ');
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return pending ? await pending : 0;
  } catch (err) {
    return report(command, err);
  }
}
