//! The settings: precedence, defaults in `--help`, and checks.

use clap::Args;

use super::*;

#[test]
fn flags_override_the_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.toml");
    std::fs::write(
        &path,
        "data_dir = \"/srv/nic\"\npeer_queue = 7\nlisten = \"127.0.0.1:6000\"\n",
    )
    .unwrap();
    let args = ServeArgs {
        config: Some(path),
        listen: Some("127.0.0.1:7000".parse().unwrap()),
        ..ServeArgs::default()
    };
    let config = Config::resolve(&args).unwrap();
    assert_eq!(config.listen.port(), 7000);
    assert_eq!(config.data_dir, PathBuf::from("/srv/nic"));
    assert_eq!(config.peer_queue, 7);
    assert_eq!(config.durability, DurabilityMode::Process);
}

#[test]
fn bad_settings_say_which() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.toml");
    std::fs::write(&path, "listen_on = 1\n").unwrap();
    let err = Config::resolve(&ServeArgs {
        config: Some(path),
        ..ServeArgs::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("listen_on"), "{err}");
    let err = Config::resolve(&ServeArgs {
        peer_queue: Some(0),
        ..ServeArgs::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("peer-queue"), "{err}");
    let err = Config::resolve(&ServeArgs {
        max_doc_ops: Some(0),
        ..ServeArgs::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("max-doc-ops"), "{err}");
}

#[test]
fn a_non_loopback_address_needs_tls_or_an_explicit_insecure() {
    let open: SocketAddr = "0.0.0.0:50051".parse().unwrap();
    let err = Config::resolve(&ServeArgs {
        listen: Some(open),
        ..ServeArgs::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("--tls-cert"), "{err}");
    let insecure = Config::resolve(&ServeArgs {
        listen: Some(open),
        insecure: Some(true),
        ..ServeArgs::default()
    })
    .unwrap();
    assert_eq!(insecure.tls, None);
    let tls = Config::resolve(&ServeArgs {
        listen: Some(open),
        tls_cert: Some("hub.pem".into()),
        tls_key: Some("hub.key".into()),
        ..ServeArgs::default()
    })
    .unwrap();
    assert_eq!(tls.tls.map(|t| t.cert), Some(PathBuf::from("hub.pem")));
    // Loopback needs neither.
    assert!(Config::resolve(&ServeArgs::default()).is_ok());
}

#[test]
fn a_non_loopback_metrics_listener_needs_an_explicit_insecure() {
    for open in ["0.0.0.0:9464", "192.168.1.20:9464", "[::]:9464"] {
        let err = Config::resolve(&ServeArgs {
            metrics_listen: Some(value::Value::parse(open).unwrap()),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("metrics-listen"), "{err}");
        assert!(err.to_string().contains("--insecure"), "{err}");
        let allowed = Config::resolve(&ServeArgs {
            metrics_listen: Some(value::Value::parse(open).unwrap()),
            insecure: Some(true),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(allowed.metrics_listen, Some(open.parse().unwrap()));
    }
    for fine in ["127.0.0.1:9464", "[::1]:9464", "off"] {
        assert!(
            Config::resolve(&ServeArgs {
                metrics_listen: Some(value::Value::parse(fine).unwrap()),
                ..ServeArgs::default()
            })
            .is_ok(),
            "{fine}"
        );
    }
}

#[test]
fn connection_limits_come_from_flags_and_cannot_be_zero() {
    let c = Config::resolve(&ServeArgs {
        max_connections: Some(7),
        handshake_timeout: Some(Duration::from_secs(3)),
        auth_timeout: Some(Duration::from_secs(9)),
        ..ServeArgs::default()
    })
    .unwrap();
    assert_eq!(
        (c.max_connections, c.handshake_timeout, c.auth_timeout),
        (7, Duration::from_secs(3), Duration::from_secs(9))
    );
    for args in [
        ServeArgs {
            max_connections: Some(0),
            ..ServeArgs::default()
        },
        ServeArgs {
            auth_timeout: Some(Duration::ZERO),
            ..ServeArgs::default()
        },
    ] {
        assert!(Config::resolve(&args).is_err());
    }
}

/// `nic-hub serve`'s flags as the binary parses them (variables included).
fn parse(argv: &[String]) -> Result<ServeArgs, clap::Error> {
    use clap::FromArgMatches;
    let matches =
        ServeArgs::augment_args(clap::Command::new("serve")).try_get_matches_from(argv)?;
    ServeArgs::from_arg_matches(&matches)
}

/// The help text for `--flag`: its lines up to the next flag's.
fn help_of(help: &str, flag: &str) -> String {
    let head = format!("--{flag}");
    // Skip to `--flag` followed by anything but more of a longer flag's name.
    let mut lines = help.lines().skip_while(|l| {
        let l = l.trim_start();
        !l.starts_with(&head)
            || l[head.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
    });
    let first = lines.next().unwrap_or_default().to_owned();
    // The next flag's line: `--x` or `-x` (a possible value is listed as `- x`).
    let rest = lines.take_while(|l| {
        let l = l.trim_start();
        !(l.starts_with("--") || l.starts_with('-') && !l[1..].starts_with(' '))
    });
    std::iter::once(first)
        .chain(rest.map(str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_default_help_states_is_the_default_in_force() {
    let help = ServeArgs::augment_args(clap::Command::new("serve"))
        .render_long_help()
        .to_string();
    let defaults = format!("{:?}", Config::resolve(&ServeArgs::default()).unwrap());
    for row in rows() {
        let text = help_of(&help, row.flag);
        assert!(
            text.contains(row.env),
            "--{} names {}:\n{text}",
            row.flag,
            row.env
        );
        let Some(default) = row.default else {
            assert!(
                !text.contains("[default:"),
                "--{}: no default\n{text}",
                row.flag
            );
            continue;
        };
        let documented = text
            .split_once("[default: ")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(value, _)| value.to_owned())
            .unwrap_or_else(|| panic!("--{} states no default:\n{text}", row.flag));
        assert_eq!(documented, default, "--{}", row.flag);
        // Given explicitly, the documented default changes nothing.
        let given = parse(&["serve".into(), format!("--{}={documented}", row.flag)]).unwrap();
        let config = Config::resolve(&given).unwrap();
        assert_eq!(
            format!("{config:?}"),
            defaults,
            "--{}={documented}",
            row.flag
        );
    }
}

/// Set by `every_setting_comes_from_file_env_and_flag_in_that_order` for its children:
/// what the `NIC_HUB_*` variables hold ("none", "low" or "high").
const CHILD_ENV: &str = "NIC_HUB_TEST_CONFIG_CHILD";

/// Every setting given by every combination of file, variable and flag at once: the value of
/// the strongest source present wins (flag > variable > file > default). The variables are
/// the process's own, so each of three children (this test binary, re-run) holds one choice
/// of them: unset, set to the value that must lose to a flag, or set to the one that wins.
#[test]
fn every_setting_comes_from_file_env_and_flag_in_that_order() {
    for mode in ["none", "low", "high"] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .args(["config::tests::precedence_child", "--exact", "--nocapture"])
            .args(["--test-threads=1"])
            .env(CHILD_ENV, mode)
            .env_remove("NIC_HUB_CONFIG");
        for row in rows() {
            match mode {
                "none" => child.env_remove(row.env),
                "low" => child.env(row.env, &row.samples[1]),
                _ => child.env(row.env, &row.samples[0]),
            };
        }
        let out = child.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "variables {mode}:\n{text}");
        assert!(
            text.contains("1 passed"),
            "the child ran (variables {mode}):\n{text}"
        );
    }
}

/// One child of the test above.
#[test]
fn precedence_child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    // (file given, flag given) for this state of the variables.
    let cases: &[(bool, bool)] = match mode.as_str() {
        "none" => &[(false, false), (true, false), (false, true), (true, true)],
        "low" => &[(false, true), (true, true)],
        _ => &[(false, false), (true, false)],
    };
    let env = mode != "none";
    let dir = tempfile::tempdir().unwrap();
    for &(file, flag) in cases {
        let sources = format!("file {file}, variable {env}, flag {flag}");
        // The strongest source present gives the first sample, the others the second.
        let file_value = |row: &table::Row| row.samples[usize::from(env || flag)].clone();
        let mut argv = vec!["serve".to_owned()];
        if file {
            let path = dir.path().join("hub.toml");
            let mut toml = String::new();
            for row in rows() {
                let text = file_value(&row);
                // Numbers and switches as TOML writes them; the rest as strings.
                let value = if text.parse::<i64>().is_ok() || text == "true" || text == "false" {
                    text
                } else {
                    toml::Value::String(text).to_string()
                };
                toml += &format!("{} = {value}\n", table::file_key(row.flag));
            }
            std::fs::write(&path, toml).unwrap();
            argv.push(format!("--config={}", path.display()));
        }
        if flag {
            argv.extend(
                rows()
                    .iter()
                    .map(|r| format!("--{}={}", r.flag, r.samples[0])),
            );
        }
        let args = parse(&argv).unwrap_or_else(|e| panic!("{sources}: {e}"));
        let config = Config::resolve(&args).unwrap_or_else(|e| panic!("{sources}: {e}"));
        let given = match &args.config {
            Some(path) => args.clone().over(read_file(path).unwrap()),
            None => args.clone(),
        };
        let any = file || env || flag;
        for row in rows() {
            let want = any.then(|| row.samples[0].clone());
            assert_eq!((row.given)(&given), want, "--{} with {sources}", row.flag);
            if let Some(resolved) = row.resolved {
                let want = want.or(row.default).unwrap();
                assert_eq!(resolved(&config), want, "--{} with {sources}", row.flag);
            }
        }
    }
}

#[test]
fn a_file_entry_of_the_wrong_kind_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.toml");
    for (text, key) in [
        ("peer_queue = \"many\"\n", "peer_queue"),
        ("durability = \"sometimes\"\n", "durability"),
        ("listen = [1]\n", "listen"),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = Config::resolve(&ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn tls_files_come_together_from_any_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.toml");
    std::fs::write(&path, "tls_cert = \"hub.pem\"\n").unwrap();
    let args = parse(&[
        "serve".into(),
        format!("--config={}", path.display()),
        "--tls-key=hub.key".into(),
    ])
    .unwrap();
    let tls = Config::resolve(&args).unwrap().tls.unwrap();
    assert_eq!((tls.cert, tls.key), ("hub.pem".into(), "hub.key".into()));
    let alone = ServeArgs {
        tls_client_ca: Some("ca.pem".into()),
        ..ServeArgs::default()
    };
    assert!(
        Config::resolve(&alone)
            .unwrap_err()
            .to_string()
            .contains("tls-client-ca")
    );
}
