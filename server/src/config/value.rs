//! The types a setting can have: each is read from the same text whether it comes from a
//! flag, a `NIC_HUB_*` variable or the config file, and shown the same way in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ValueEnum};

use super::{DurabilityMode, StoreChoice};

/// A setting's type.
pub(super) trait Value: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Reads a value from a flag's, a variable's or a config-file entry's text.
    fn parse(text: &str) -> Result<Self, String>;
    /// The value as it would be written on the command line (how `--help` shows defaults).
    fn show(&self) -> String;
    /// Adjusts the flag for this type (value name, enum choices, a bare boolean flag).
    fn arg(arg: Arg) -> Arg {
        arg
    }
    /// Two values for tests: the first differs from `default` and from the second.
    #[cfg(test)]
    fn samples(default: Option<&Self>) -> [Self; 2];
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn parse(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|e| format!("{text:?} is not a whole number ({e})"))
            }
            fn show(&self) -> String {
                self.to_string()
            }
            #[cfg(test)]
            fn samples(default: Option<&Self>) -> [Self; 2] {
                let d = default.copied().unwrap_or(1);
                [d + 1, d + 2]
            }
        }
    )*};
}
number!(u32, u64, usize);

impl Value for SocketAddr {
    fn parse(text: &str) -> Result<Self, String> {
        text.parse()
            .map_err(|e| format!("{text:?} is not an address like 127.0.0.1:50051 ({e})"))
    }
    fn show(&self) -> String {
        self.to_string()
    }
    fn arg(arg: Arg) -> Arg {
        arg.value_name("ADDR")
    }
    #[cfg(test)]
    fn samples(default: Option<&Self>) -> [Self; 2] {
        let d = default
            .copied()
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 1)));
        let at = |n| SocketAddr::new(d.ip(), d.port().wrapping_add(n));
        [at(1), at(2)]
    }
}

/// A metrics address, or "off".
impl Value for Option<SocketAddr> {
    fn parse(text: &str) -> Result<Self, String> {
        if text == "off" {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|e| format!("{text:?} is not an address like 127.0.0.1:9464 or \"off\" ({e})"))
    }
    fn show(&self) -> String {
        self.map_or_else(|| "off".into(), |a| a.to_string())
    }
    fn arg(arg: Arg) -> Arg {
        arg.value_name("ADDR|off")
    }
    #[cfg(test)]
    fn samples(default: Option<&Self>) -> [Self; 2] {
        let d = default.copied().flatten();
        let other = SocketAddr::from(([127, 0, 0, 1], d.map_or(1, |a| a.port().wrapping_add(1))));
        [Some(other), None]
    }
}

impl Value for PathBuf {
    fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("an empty path".into());
        }
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
    fn arg(arg: Arg) -> Arg {
        arg.value_name("PATH")
    }
    #[cfg(test)]
    fn samples(default: Option<&Self>) -> [Self; 2] {
        let d = default.map_or_else(|| "file".into(), PathBuf::show);
        [format!("{d}-1").into(), format!("{d}-2").into()]
    }
}

/// The web app's files: "embedded" (those built into the binary) or a folder.
impl Value for Option<PathBuf> {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "embedded" => Ok(None),
            "" => Err("an empty path (say \"embedded\" for the built-in app)".into()),
            path => Ok(Some(PathBuf::from(path))),
        }
    }
    fn show(&self) -> String {
        self.as_ref()
            .map_or_else(|| "embedded".into(), |p| p.display().to_string())
    }
    fn arg(arg: Arg) -> Arg {
        arg.value_name("PATH|embedded")
    }
    #[cfg(test)]
    fn samples(_default: Option<&Self>) -> [Self; 2] {
        [Some("web-1".into()), None]
    }
}

/// "sled", or a PostgreSQL URL.
impl Value for StoreChoice {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "sled" {
            Ok(Self::Sled)
        } else if text.starts_with("postgresql://") || text.starts_with("postgres://") {
            Ok(Self::Postgres(text.to_owned()))
        } else {
            Err(format!(
                "{text:?} is neither sled nor a PostgreSQL URL (postgresql://user@host/db)"
            ))
        }
    }
    fn show(&self) -> String {
        match self {
            Self::Sled => "sled".into(),
            Self::Postgres(_) => "postgresql://…".into(),
        }
    }
    fn arg(arg: Arg) -> Arg {
        arg.value_name("sled|postgresql://…")
    }
    #[cfg(test)]
    fn samples(_default: Option<&Self>) -> [Self; 2] {
        [
            Self::Postgres("postgresql://nic@db1/nic".into()),
            Self::Postgres("postgresql://nic@db2/nic".into()),
        ]
    }
}

/// Whole seconds (every duration setting is in seconds).
impl Value for Duration {
    fn parse(text: &str) -> Result<Self, String> {
        u64::parse(text).map(Duration::from_secs)
    }
    fn show(&self) -> String {
        self.as_secs().to_string()
    }
    fn arg(arg: Arg) -> Arg {
        arg.value_name("SECS")
    }
    #[cfg(test)]
    fn samples(default: Option<&Self>) -> [Self; 2] {
        let d = default.map_or(1, Duration::as_secs);
        [Duration::from_secs(d + 1), Duration::from_secs(d + 2)]
    }
}

/// A switch: the bare flag means true; a variable or file entry says `true` or `false`.
impl Value for bool {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{text:?} is neither true nor false")),
        }
    }
    fn show(&self) -> String {
        self.to_string()
    }
    fn arg(arg: Arg) -> Arg {
        // `--insecure` alone, as before; `--insecure=false` overrides a variable or file.
        arg.num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_name("BOOL")
    }
    #[cfg(test)]
    fn samples(default: Option<&Self>) -> [Self; 2] {
        let d = default.copied().unwrap_or(false);
        [!d, d]
    }
}

impl Value for DurabilityMode {
    fn parse(text: &str) -> Result<Self, String> {
        <Self as ValueEnum>::from_str(text, false)
    }
    fn show(&self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
    fn arg(arg: Arg) -> Arg {
        // Clap's own parser for the enum, for the choices in `--help` and its errors.
        arg.value_parser(clap::builder::EnumValueParser::<Self>::new())
            .value_name("MODE")
    }
    #[cfg(test)]
    fn samples(default: Option<&Self>) -> [Self; 2] {
        match default {
            Some(DurabilityMode::PowerSafe) => [DurabilityMode::Process, DurabilityMode::PowerSafe],
            _ => [DurabilityMode::PowerSafe, DurabilityMode::Process],
        }
    }
}
