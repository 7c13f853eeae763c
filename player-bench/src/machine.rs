//! A description of the machine and server a run measured, for the report.

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use crate::report::Section;

/// Server settings that decide commit cost, where the server has them.
const SETTINGS: &str = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('innodb_flush_log_at_trx_commit', \
     'sync_binlog', 'log_bin', 'innodb_buffer_pool_size', 'transaction_isolation', 'tx_isolation')";

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = Variable_name)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text, column_name = Value)]
    value: String,
}

/// The machine (CPU, cores, memory, OS), the server and its commit settings,
/// and the client, as a section.
pub fn section(conn: &mut MysqlConnection, client_version: &str) -> anyhow::Result<Section> {
    let mut s = Section::new("Machine", "what | value").left_aligned();
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    let cpu = sys.cpus().first().map_or("unknown", |c| c.brand());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    s.row(vec![
        "CPU".into(),
        format!("{cpu}, {cores} cores available"),
    ]);
    let gib = sys.total_memory() as f64 / (1u64 << 30) as f64;
    s.row(vec!["memory".into(), format!("{gib:.1} GiB")]);
    s.row(vec![
        "OS".into(),
        System::long_os_version().unwrap_or_else(|| "unknown".into()),
    ]);
    s.row(vec!["server".into(), player_admin::catalog::version(conn)?]);
    let settings = diesel::sql_query(SETTINGS)
        .load::<Setting>(conn)
        .unwrap_or_default();
    for Setting { name, value } in settings {
        let value = match value.parse::<u64>() {
            Ok(bytes) if name.ends_with("_size") => format!("{} MiB", bytes >> 20),
            _ => value,
        };
        s.row(vec![name, value]);
    }
    s.row(vec!["client".into(), client_version.into()]);
    s.note("Absolute figures are specific to this machine; the ratios are what carry over.");
    Ok(s)
}
