//! A hub in a child process, for tests and the load tool: started on a free port, waited for
//! until it prints where it listens (no sleeps), killed when dropped. One way to do it, used
//! by `nic-hub`'s own tests, the end-to-end crash test and `nic-load`.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

/// What the hub prints on stdout, followed by its address, once it accepts connections.
pub const LISTENING: &str = "nic-hub listening on ";

/// The address in a line the hub printed, if it is the listening line.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    line.trim_start()
        .strip_prefix(LISTENING)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The arguments of `nic-hub` that serve `data_dir` on a free loopback port without metrics.
pub fn serve_args(data_dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "off",
    ]
    .map(OsString::from)
    .into();
    args.push("--data-dir".into());
    args.push(data_dir.into());
    args
}

/// A hub child process that has said where it listens.
#[derive(Debug)]
pub struct ChildHub {
    child: Child,
    addr: SocketAddr,
    /// What the child writes after the listening line (and on stderr, if piped), collected
    /// so it never blocks on a full pipe.
    output: Vec<JoinHandle<String>>,
}

impl ChildHub {
    /// The `nic-hub` binary at `bin` serving `data_dir` (see [`serve_args`]).
    pub fn serve(bin: &Path, data_dir: &Path) -> std::io::Result<ChildHub> {
        let mut cmd = Command::new(bin);
        cmd.args(serve_args(data_dir));
        Self::spawn(cmd)
    }

    /// Runs `cmd` (stdout is taken over; stderr is collected if the caller piped it) and
    /// blocks until it prints the listening line. A child that exits first is an error that
    /// carries what it printed.
    pub fn spawn(mut cmd: Command) -> std::io::Result<ChildHub> {
        let mut child = cmd.stdout(Stdio::piped()).spawn()?;
        let mut output = Vec::new();
        if let Some(mut stderr) = child.stderr.take() {
            output.push(std::thread::spawn(move || {
                let mut all = String::new();
                let _ = stderr.read_to_string(&mut all);
                all
            }));
        }
        let Some(stdout) = child.stdout.take() else {
            return Err(std::io::Error::other("the hub's stdout is not piped"));
        };
        let mut lines = BufReader::new(stdout).lines();
        let mut before = Vec::new();
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => match listening_addr(&line) {
                    Some(addr) => break addr,
                    None => before.push(line),
                },
                Some(Err(e)) => return Err(e),
                None => {
                    let _ = child.kill();
                    let status = child.wait()?;
                    // It has exited, so its stderr (if piped) is complete.
                    let stderr: Vec<String> =
                        output.drain(..).filter_map(|h| h.join().ok()).collect();
                    return Err(std::io::Error::other(format!(
                        "the hub exited ({status}) before it listened; it printed: {}{}",
                        before.join("\n"),
                        stderr.join("\n")
                    )));
                }
            }
        };
        output.push(std::thread::spawn(move || {
            lines.map_while(Result::ok).collect::<Vec<_>>().join("\n")
        }));
        Ok(ChildHub {
            child,
            addr,
            output,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its gRPC URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its process id (to measure it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it at once (SIGKILL on Unix: a crash) and waits for it.
    pub fn kill(mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(drop)
    }

    /// Stops it as an operator would (SIGTERM, so it shuts down cleanly), waits, and returns
    /// how it exited and everything it printed after the listening line.
    pub fn stop(mut self) -> std::io::Result<(ExitStatus, String)> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let status = self.child.wait()?;
        let output = std::mem::take(&mut self.output)
            .into_iter()
            .map(|t| t.join().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        Ok((status, output))
    }
}

impl Drop for ChildHub {
    fn drop(&mut self) {
        // Already exited (stopped or killed): both calls fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn waits_for_the_listening_line_and_kills_on_drop() {
        let hub = ChildHub::spawn(sh(
            "echo starting; echo 'nic-hub listening on 127.0.0.1:9 (data in x)'; exec sleep 600",
        ))
        .unwrap();
        assert_eq!(hub.url(), "http://127.0.0.1:9");
        // Dropping kills and reaps it: this test would otherwise wait ten minutes.
        drop(hub);
    }

    #[test]
    fn a_child_that_exits_first_is_an_error_with_its_output() {
        let err = ChildHub::spawn(sh("echo cannot open the database; exit 3")).unwrap_err();
        assert!(
            err.to_string().contains("cannot open the database"),
            "{err}"
        );
    }

    #[test]
    fn stop_returns_what_it_printed_after_listening() {
        let hub = ChildHub::spawn(sh(
            // The trap is set before the line, so the SIGTERM cannot come first; both lines
            // come from one printf, since sh runs the trap between commands and a separate
            // `echo bye` could lose the race with the SIGTERM.
            "trap 'exit 0' TERM; printf 'nic-hub listening on [::1]:7\\nbye\\n'; \
             while :; do sleep 0.05; done",
        ))
        .unwrap();
        assert_eq!(hub.addr(), "[::1]:7".parse().unwrap());
        let (status, out) = hub.stop().unwrap();
        assert!(status.success(), "{status}");
        assert!(out.contains("bye"), "{out}");
    }
}
