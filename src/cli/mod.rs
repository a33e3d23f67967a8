//! Command-line front end: flag parsing and dispatch. Each command lives in its own
//! file and drives the same core as the language server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::lsp;
use crate::process::{error_line, init_logging, install_crypto_provider, runtime};

mod auth_cmds;
mod demo;
mod import;
mod openapi_import;
mod run;
mod show;
mod style;

pub use style::{ColorChoice, Print};

/// Exit code for a usage or file error.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "httplens",
    version,
    about = "Send requests from .http files, with real OAuth sign-in",
    after_help = "Examples:
  httplens demo                          local provider + API, sign in, send
  httplens show api.http --env dev       what would go on the wire (dry run)
  httplens run api.http --env dev        send every request, check assertions
  httplens run api.http --name login     send one request (and what it needs)
  httplens login shop --env dev          sign in to the auth profile `shop`
  httplens status                        which profiles are signed in
  httplens lsp                           language server on stdin/stdout
  httplens completions bash              shell completions (bash, zsh, fish, powershell)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Language server on stdin/stdout (JSON-RPC, LSP 3.17)
    Lsp {
        /// Accepted and ignored: stdio is the only transport (many clients pass it)
        #[arg(long)]
        stdio: bool,
    },
    /// Send one request (--name/--line) or all of them in order, and print responses
    Run(RunArgs),
    /// Resolve requests without sending them (a dry run)
    Show(ShowArgs),
    /// Sign in to an auth profile and store the tokens in the keychain
    Login(LoginArgs),
    /// Forget a profile's tokens (and revoke them where the provider can)
    Logout(LogoutArgs),
    /// List auth profiles, signed in or not (never a token)
    Status(StatusArgs),
    /// Start a local OAuth provider and API plus a ready workspace, sign in, send
    Demo(DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout: httplens(1), or httplens-COMMAND(1)
    Man {
        /// A command whose page to print (`run`, `show`...), with all its flags
        command: Option<String>,
    },
    /// Turn other formats into requests: `import curl ...` prints the request,
    /// `import openapi SPEC` writes `.http` files and an env file
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub kind: ImportKind,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImportKind {
    /// Print the request a curl command describes (the command as arguments, or on stdin)
    Curl {
        /// The curl command's words (`curl` itself optional); none: read stdin
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// Write `.http` files from an OpenAPI 3.0/3.1 spec (one request per operation, one
    /// file per tag) and an `http-client.env.json` with its servers as environments
    Openapi {
        /// The spec (JSON or YAML)
        spec: std::path::PathBuf,
        /// Only the operations with this tag
        #[arg(long)]
        tag: Option<String>,
        /// The folder to write into (created if needed; default: the current folder)
        #[arg(short = 'o', long = "out", default_value = ".")]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub env: Option<String>,
    /// Send the request with this name (and the requests it depends on)
    #[arg(long, conflicts_with = "line")]
    pub name: Option<String>,
    /// Send the request whose block holds this 1-based line
    #[arg(long)]
    pub line: Option<u32>,
    /// Set a variable (highest precedence; answers @prompt)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Accept invalid TLS certificates (self-signed hosts)
    #[arg(long)]
    pub insecure: bool,
    /// Do not write response documents to the history
    #[arg(long)]
    pub no_history: bool,
    /// Seconds a request may take when it has no `# @timeout` (0: no limit)
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Stop at the first request that fails or whose assertions do not hold
    #[arg(long)]
    pub fail_fast: bool,
    /// What to print of each exchange, as HTTPie: H request headers, B request body,
    /// h response headers, b response body, m the rest (timing, assertions, summary)
    #[arg(long, short = 'p', value_name = "WHAT", value_parser = Print::parse, default_value = "hbm")]
    pub print: Print,
    /// Colours: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t)]
    pub color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub env: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Show secrets (tokens, Authorization) instead of masking them
    #[arg(long)]
    pub reveal: bool,
    /// Colours: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t)]
    pub color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    pub profile: String,
    #[arg(long)]
    pub env: Option<String>,
    /// A request file whose folder locates the env files (default: current folder)
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Do not open a browser: print the URL and read the redirected URL from stdin
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the browser's redirect, in seconds
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    pub profile: String,
    #[arg(long)]
    pub env: Option<String>,
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[arg(long)]
    pub env: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where to write the demo workspace
    #[arg(long, default_value = "httplens-demo")]
    pub dir: PathBuf,
    /// Do not open a browser: paste the redirected URL instead
    #[arg(long)]
    pub no_browser: bool,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging();
    install_crypto_provider();
    let code = match cli.command {
        Command::Lsp { .. } => lsp::run_stdio(),
        Command::Run(a) => run::run(a),
        Command::Show(a) => show::run(a),
        Command::Login(a) => auth_cmds::login(a),
        Command::Logout(a) => auth_cmds::logout(a),
        Command::Status(a) => auth_cmds::status(a),
        Command::Demo(a) => demo::run(a),
        Command::Completions { shell } => completions(shell),
        Command::Man { command } => man_page(command.as_deref()),
        Command::Import(a) => import::run(a),
    };
    ExitCode::from(code)
}

/// `httplens completions SHELL`: the script on stdout, from the clap definitions.
fn completions(shell: clap_complete::Shell) -> u8 {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "httplens", &mut out);
    write_stdout(&out)
}

/// `httplens man [COMMAND]`: the man page (section 1, roff) on stdout: the overview
/// with the list of commands, or one command's page with every flag
/// (`httplens-run(1)`, as git names its pages).
fn man_page(command: Option<&str>) -> u8 {
    use clap::CommandFactory;
    let top = Cli::command();
    let source = format!("httplens {}", env!("CARGO_PKG_VERSION"));
    let man = match command {
        None => clap_mangen::Man::new(top),
        Some(name) => match top.find_subcommand(name) {
            Some(sub) => {
                // clap takes a command's name as a `&'static str`; this process
                // prints one page and ends, so leaking the one string is harmless.
                let page: &'static str = Box::leak(format!("httplens-{name}").into_boxed_str());
                let sub = sub.clone().name(page).bin_name(format!("httplens {name}"));
                clap_mangen::Man::new(sub).source(source)
            }
            None => {
                error_line(format!(
                    "no command `{name}`: `httplens --help` lists the commands."
                ));
                return EXIT_USAGE;
            }
        },
    };
    let mut out = Vec::new();
    if let Err(e) = man.render(&mut out) {
        error_line(format!("cannot render the man page: {e}"));
        return 1;
    }
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> u8 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            error_line(format!("cannot write the output: {e}"));
            1
        }
    }
}

/// One line from stdin, read off the async threads; `None` at end of input.
pub async fn read_stdin_line() -> Option<String> {
    tokio::task::spawn_blocking(|| {
        let mut l = String::new();
        match std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut l) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(l),
        }
    })
    .await
    .ok()
    .flatten()
}
