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
    blocks: Vec<String>,
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

    /// Adds a note printed under the table.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Aligns every cell to the left (for a table of descriptions, not figures).
    pub fn left_aligned(mut self) -> Self {
        self.numbers_right = false;
        self
    }

    /// Adds text printed as it is after the notes (a chart, say).
    pub fn block(&mut self, text: impl Into<String>) {
        self.blocks.push(text.into());
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
        for block in &self.blocks {
            out.push('\n');
            out += block;
        }
        out
    }
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
    fn markdown_section_is_a_table_and_a_list() {
        let mut s = Section::new("T", &["a", "b"]);
        s.row(vec!["x".into(), "1".into()]);
        s.note("n");
        let md = s.render(true);
        assert!(md.starts_with("### T\n\n|"), "{md}");
        assert!(md.contains("| x "), "{md}");
        assert!(md.ends_with("\n- n\n"), "{md}");
    }
}
