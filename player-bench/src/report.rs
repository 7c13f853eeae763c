//! Printing results: sections with a table and notes, as aligned text or Markdown,
//! and the number formats they use.

use std::fmt;
use std::time::Duration;

use comfy_table::{Cell, CellAlignment, Table, presets};

/// Whether a figure meets its target. Informational: a miss does not fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The target is met.
    Pass,
    /// The target is missed.
    Miss,
}

impl Verdict {
    /// `Pass` if `met`.
    pub fn of(met: bool) -> Self {
        if met { Verdict::Pass } else { Verdict::Miss }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "PASS",
            Verdict::Miss => "MISS",
        })
    }
}

/// One titled table with notes under it.
pub struct Section {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
    /// (caption, preformatted text) pairs.
    blocks: Vec<(String, String)>,
    numbers_right: bool,
}

impl Section {
    /// A section with these column headers.
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Self {
            title: title.into(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
            blocks: Vec::new(),
            numbers_right: true,
        }
    }

    /// Adds a row (one cell per header).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The last row added, to append cells to.
    ///
    /// # Panics
    /// If no row was added yet.
    pub fn last_row(&mut self) -> &mut Vec<String> {
        self.rows.last_mut().expect("a row was added")
    }

    /// Adds a note printed under the table.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Aligns every cell to the left (for a table of descriptions, not figures).
    pub fn left_aligned(mut self) -> Self {
        self.numbers_right = false;
        self
    }

    /// Adds preformatted text (a text chart, say) after the notes, under a
    /// caption; in Markdown it goes in a code block.
    pub fn preformatted(&mut self, caption: impl Into<String>, text: impl Into<String>) {
        self.blocks.push((caption.into(), text.into()));
    }

    /// The section as text: a boxed table, or a Markdown table and list.
    pub fn render(&self, markdown: bool) -> String {
        let mut table = Table::new();
        table.load_preset(if markdown {
            presets::ASCII_MARKDOWN
        } else {
            presets::UTF8_FULL_CONDENSED
        });
        table.set_header(&self.header);
        for row in &self.rows {
            table.add_row(row.iter().map(|text| {
                // Numbers read best right-aligned, words left-aligned.
                let numeric = self.numbers_right
                    && (text.starts_with(|c: char| c.is_ascii_digit()) || text == "n/a");
                Cell::new(text).set_alignment(if numeric {
                    CellAlignment::Right
                } else {
                    CellAlignment::Left
                })
            }));
        }
        let mut out = if markdown {
            format!("### {}\n\n{table}\n", self.title)
        } else {
            format!("== {} ==\n{table}\n", self.title)
        };
        if !self.notes.is_empty() {
            out.push('\n');
        }
        for note in &self.notes {
            out += &if markdown {
                format!("- {note}\n")
            } else {
                format!("  {note}\n")
            };
        }
        for (caption, text) in &self.blocks {
            out += &if markdown {
                format!("\n{caption}:\n\n```text\n{text}```\n")
            } else {
                format!("\n{caption}:\n{text}")
            };
        }
        out
    }
}

/// The line before the results in a document that `--write-results` updates.
pub const RESULTS_BEGIN: &str = "<!-- player-bench results: begin -->";
/// The line after them.
pub const RESULTS_END: &str = "<!-- player-bench results: end -->";

/// The Markdown of a run's sections, under a line that says when it ran and
/// whether its sizes were the smoke run's.
pub fn results_block(sections: &[String], quick: bool) -> String {
    let sizes = if quick {
        "`--quick` sizes: a smoke run, its figures mean little"
    } else {
        "full sizes"
    };
    let mut out = format!(
        "_Measured on {} UTC by `player-bench` ({sizes})._\n\n",
        utc_date_now()
    );
    out += &sections.join("\n");
    out
}

/// `doc` with the text between [`RESULTS_BEGIN`] and [`RESULTS_END`] replaced by `results`.
pub fn replace_results(doc: &str, results: &str) -> anyhow::Result<String> {
    let (Some(begin), Some(end)) = (doc.find(RESULTS_BEGIN), doc.find(RESULTS_END)) else {
        anyhow::bail!("the document has no `{RESULTS_BEGIN}` ... `{RESULTS_END}` markers");
    };
    anyhow::ensure!(begin < end, "the results markers are in the wrong order");
    let head = &doc[..begin + RESULTS_BEGIN.len()];
    let tail = &doc[end..];
    Ok(format!("{head}\n\n{}\n\n{tail}", results.trim()))
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn utc_date_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// An integer with thousands separators: `1234567.8` → `1,234,568`.
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if x < -0.5 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio with two decimals.
pub fn ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "n/a".into()
    }
}

/// Items per second.
pub fn per_second(items: usize, took: Duration) -> f64 {
    items as f64 / took.as_secs_f64()
}

/// One line on stderr per measurement, so a long run shows it is alive.
pub fn progress(what: &str, rate: f64) {
    eprintln!("  {what}: {}/s", thousands(rate));
}

/// The median of some measurements (the lower middle one for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(-1_000.0), "-1,000");
        assert_eq!(ratio(0.912), "0.91");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn dates_and_results_markers() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));

        let doc = format!("# T\n\n{RESULTS_BEGIN}\nold\n{RESULTS_END}\n\nafter\n");
        let new = replace_results(&doc, "new\n").expect("markers");
        assert_eq!(
            new,
            format!("# T\n\n{RESULTS_BEGIN}\n\nnew\n\n{RESULTS_END}\n\nafter\n")
        );
        assert_eq!(replace_results(&new, "new").expect("again"), new);
        assert!(replace_results("no markers", "x").is_err());
        let block = results_block(&["### A\n".into(), "### B\n".into()], true);
        assert!(
            block.starts_with("_Measured on ") && block.contains("`--quick`"),
            "{block}"
        );
        assert!(block.ends_with("### A\n\n### B\n"), "{block}");
    }

    #[test]
    fn markdown_section_is_a_table_and_a_list() {
        let mut s = Section::new("T", &["a", "b"]);
        s.row(vec!["x".into(), "1".into()]);
        s.note("n");
        let md = s.render(true);
        assert!(md.starts_with("### T\n\n|"), "{md}");
        assert!(md.contains("| x "), "{md}");
        assert!(md.ends_with("\n- n\n"), "{md}");
        s.preformatted("Chart", "x ██\n");
        assert!(
            s.render(true)
                .ends_with("- n\n\nChart:\n\n```text\nx ██\n```\n")
        );
        assert!(s.render(false).ends_with("  n\n\nChart:\nx ██\n"));
    }
}
