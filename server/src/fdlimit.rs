//! The open-file limit at start-up: every connection holds a descriptor, so a cap above the
//! limit would let idle connections exhaust it (new clients then time out). Raise the soft
//! limit to the hard one where allowed, and lower the connection cap to fit what is left.

/// Descriptors kept free for everything but client connections: the database's files, the
/// listeners, the metrics scrapes, TLS files, standard streams.
pub const HEADROOM: u64 = 64;

/// Raises the soft open-file limit as far as allowed and returns the connection cap that fits
/// under it, warning when that is below `max_connections`.
pub fn fit_connections(max_connections: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; keeping max-connections as configured");
            return max_connections;
        }
    };
    let (cap, warning) = fit(max_connections, limit);
    if let Some(warning) = warning {
        tracing::warn!(open_file_limit = limit, max_connections, cap, "{warning}");
    } else {
        tracing::debug!(
            open_file_limit = limit,
            max_connections,
            "open-file limit fits"
        );
    }
    cap
}

/// The cap that fits `max_connections` under an open-file `limit`, and what to tell the
/// operator when it had to be lowered.
pub fn fit(max_connections: usize, limit: u64) -> (usize, Option<String>) {
    let needed = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_add(HEADROOM);
    if limit >= needed {
        return (max_connections, None);
    }
    let cap = usize::try_from(limit.saturating_sub(HEADROOM))
        .unwrap_or(usize::MAX)
        .max(1);
    (
        cap,
        Some(format!(
            "the open-file limit ({limit}) is below what max-connections {max_connections} needs ({needed}): serving at most {cap} connections; raise the limit (ulimit -n, or LimitNOFILE= in a systemd unit) to {needed} or more"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_below_the_cap_lowers_it_and_says_so() {
        assert_eq!(fit(4096, 1_048_576), (4096, None));
        assert_eq!(fit(4096, 4096 + HEADROOM).0, 4096);
        let (cap, warning) = fit(4096, 1024);
        assert_eq!(cap, 1024 - 64);
        let warning = warning.unwrap_or_default();
        assert!(
            warning.contains("(1024)") && warning.contains("4160"),
            "{warning}"
        );
        assert_eq!(fit(10, 3).0, 1);
    }
}
