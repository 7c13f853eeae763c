//! A description of the machine and server a run measured, for the report.

use crate::report::Section;

/// The machine (CPU, cores, memory, OS), the server and the client, as a section.
pub fn section(
    server_version: &str,
    client_version: &str,
    settings: &[(String, String)],
) -> Section {
    let mut s = Section::new("Machine", &["what", "value"]).left_aligned();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = field(&cpuinfo, "model name").unwrap_or("unknown");
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = field(&meminfo, "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        });
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map_or("unknown".into(), |v| v.trim_matches('"').to_owned());
    s.row(vec![
        "CPU".into(),
        format!("{cpu}, {cores} cores available"),
    ]);
    s.row(vec!["memory".into(), mem]);
    s.row(vec!["OS".into(), os]);
    s.row(vec!["server".into(), server_version.into()]);
    for (name, value) in settings {
        let value = match value.parse::<u64>() {
            Ok(bytes) if name.ends_with("_size") => format!("{} MiB", bytes / (1024 * 1024)),
            _ => value.clone(),
        };
        s.row(vec![name.clone(), value]);
    }
    s.row(vec!["client".into(), client_version.into()]);
    s.note("Absolute figures are specific to this machine; the ratios are what carry over.");
    s
}

/// The value of the first `key: value` line of a /proc file.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}
