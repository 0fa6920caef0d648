//! The `settings!` macro: one table row per setting makes its flag, variable, config-file
//! key, help line with the default, `Config` field and default, so they cannot disagree.

use std::path::Path;

use clap::{Arg, ArgMatches};

use super::ConfigError;
use super::value::Value;

/// Declares the hub's settings. `config` rows become `Config` fields of the same name and
/// type; `parts` rows have no default and are assembled into the `derived` fields by the
/// named function. Each row: docs (the help line), `name: Type = default, "flag", "ENV";`.
/// The config-file key is the flag with `_` for `-`.
macro_rules! settings {
    (
        config {$(
            $(#[doc = $doc:literal])*
            $name:ident : $ty:ty = $default:expr, $flag:literal, $env:literal;
        )*}
        parts {$(
            $(#[doc = $pdoc:literal])*
            $pname:ident : $pty:ty, $pflag:literal, $penv:literal;
        )*}
        derived {$(
            $(#[doc = $ddoc:literal])*
            $dname:ident : $dty:ty = $ddefault:expr, from $dfrom:path;
        )*}
    ) => {
        /// Flags of `nic-hub serve` (each also read from its `NIC_HUB_*` variable); the same
        /// shape holds one config file's settings. `None`: not given here.
        #[derive(Clone, Debug, Default)]
        pub struct ServeArgs {
            /// TOML file with any of the settings (keys as the flags, with '_' for '-').
            pub config: Option<PathBuf>,
            $( $(#[doc = $doc])* pub $name: Option<$ty>, )*
            $( $(#[doc = $pdoc])* pub $pname: Option<$pty>, )*
        }

        /// Settings in force.
        #[derive(Clone, Debug)]
        pub struct Config {
            $( $(#[doc = $doc])* pub $name: $ty, )*
            $( $(#[doc = $ddoc])* pub $dname: $dty, )*
        }

        impl Default for Config {
            fn default() -> Self {
                Self {
                    $( $name: $default, )*
                    $( $dname: $ddefault, )*
                }
            }
        }

        impl ServeArgs {
            /// These settings, and `lower`'s where these have none.
            fn over(self, lower: ServeArgs) -> ServeArgs {
                ServeArgs {
                    config: self.config.or(lower.config),
                    $( $name: self.$name.or(lower.$name), )*
                    $( $pname: self.$pname.or(lower.$pname), )*
                }
            }

            /// One config file's settings; an unknown key is an error that names it.
            fn from_table(path: &Path, table: toml::Table) -> Result<ServeArgs, ConfigError> {
                let mut layer = ServeArgs::default();
                for (key, value) in table {
                    $( if key == table::file_key($flag) {
                        layer.$name = Some(table::entry(path, &key, &value)?);
                        continue;
                    } )*
                    $( if key == table::file_key($pflag) {
                        layer.$pname = Some(table::entry(path, &key, &value)?);
                        continue;
                    } )*
                    return Err(ConfigError::UnknownKey { path: path.to_owned(), key });
                }
                Ok(layer)
            }
        }

        impl Config {
            /// The settings given in `layer`, defaults for the rest.
            fn from_layer(layer: ServeArgs) -> Result<Config, ConfigError> {
                $( let $dname = $dfrom(&layer)?; )*
                let default = Config::default();
                Ok(Config {
                    $( $name: layer.$name.unwrap_or(default.$name), )*
                    $( $dname, )*
                })
            }
        }

        impl clap::Args for ServeArgs {
            fn augment_args(cmd: clap::Command) -> clap::Command {
                let default = Config::default();
                cmd.arg(
                    clap::Arg::new("config")
                        .long("config")
                        .env("NIC_HUB_CONFIG")
                        .value_name("PATH")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help(concat!(
                            "TOML file with any of the settings below ",
                            "(keys as the flags, with '_' for '-')."
                        )),
                )
                $( .arg(table::arg::<$ty>(
                    stringify!($name), $flag, $env, concat!($($doc),*),
                    Some(value::Value::show(&default.$name)),
                )) )*
                $( .arg(table::arg::<$pty>(
                    stringify!($pname), $pflag, $penv, concat!($($pdoc),*), None,
                )) )*
            }
            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }

        impl clap::FromArgMatches for ServeArgs {
            fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
                Ok(ServeArgs {
                    config: table::given(matches, "config")?,
                    $( $name: table::given(matches, stringify!($name))?, )*
                    $( $pname: table::given(matches, stringify!($pname))?, )*
                })
            }
            fn update_from_arg_matches(
                &mut self,
                matches: &clap::ArgMatches,
            ) -> Result<(), clap::Error> {
                *self = Self::from_arg_matches(matches)?.over(std::mem::take(self));
                Ok(())
            }
        }

        /// Every setting, for tests that go over all of them.
        #[cfg(test)]
        fn rows() -> Vec<table::Row> {
            let default = Config::default();
            vec![
                $( table::Row {
                    flag: $flag,
                    env: $env,
                    default: Some(value::Value::show(&default.$name)),
                    samples: <$ty as value::Value>::samples(Some(&default.$name))
                        .map(|v| value::Value::show(&v)),
                    given: |l| l.$name.as_ref().map(value::Value::show),
                    resolved: Some(|c| value::Value::show(&c.$name)),
                }, )*
                $( table::Row {
                    flag: $pflag,
                    env: $penv,
                    default: None,
                    samples: <$pty as value::Value>::samples(None).map(|v| value::Value::show(&v)),
                    given: |l| l.$pname.as_ref().map(value::Value::show),
                    resolved: None,
                }, )*
            ]
        }
    };
}

/// A setting as tests see it.
#[cfg(test)]
pub(super) struct Row {
    /// Its flag, without `--`.
    pub flag: &'static str,
    /// Its variable.
    pub env: &'static str,
    /// Its default, shown as a flag takes it (none for parts).
    pub default: Option<String>,
    /// Two values, the first unlike the default and the second.
    pub samples: [String; 2],
    /// The value a source gave, shown.
    pub given: fn(&super::ServeArgs) -> Option<String>,
    /// The value in force, shown (parts have no `Config` field of their own).
    pub resolved: Option<fn(&super::Config) -> String>,
}

/// A setting's config-file key: its flag with `_` for `-`.
pub(super) fn file_key(flag: &str) -> String {
    flag.replace('-', "_")
}

/// A setting's flag, read from its variable too; the help line states the default.
pub(super) fn arg<T: Value>(
    id: &'static str,
    flag: &'static str,
    env: &'static str,
    doc: &str,
    default: Option<String>,
) -> Arg {
    // Doc comments arrive a line at a time, each with its leading space.
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = match default {
        Some(default) => format!("{doc} [default: {default}]"),
        None => doc,
    };
    T::arg(
        Arg::new(id)
            .long(flag)
            .env(env)
            .help(help)
            .value_parser(T::parse),
    )
}

/// The value clap read for `id` (from the flag or its variable), if any.
pub(super) fn given<T: Clone + Send + Sync + 'static>(
    matches: &ArgMatches,
    id: &str,
) -> Result<Option<T>, clap::Error> {
    matches
        .try_get_one::<T>(id)
        .map(Option::<&T>::cloned)
        .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, e))
}

/// A config-file entry read as its setting's type, from the same text a flag would take.
pub(super) fn entry<T: Value>(
    path: &Path,
    key: &str,
    value: &toml::Value,
) -> Result<T, ConfigError> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => {
            return Err(ConfigError::Entry {
                path: path.to_owned(),
                key: key.to_owned(),
                reason: format!(
                    "expected a string, a number or true/false, not a {}",
                    other.type_str()
                ),
            });
        }
    };
    T::parse(&text).map_err(|reason| ConfigError::Entry {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    })
}
