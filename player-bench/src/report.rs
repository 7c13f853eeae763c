//! Printing results: sections with a table and notes, as aligned text or
//! Markdown; the number formats they use; and the results block of a document.

use std::time::Duration;

use comfy_table::{Cell, CellAlignment, Table, presets};

/// PASS or MISS: whether a figure meets its target. Informational: a miss
/// does not fail the run.
pub fn verdict(met: bool) -> String {
    if met { "PASS" } else { "MISS" }.into()
}

/// Where a part prints its sections as they are done.
pub type Show<'a> = &'a mut dyn FnMut(&Section);

/// One titled table with notes under it, and preformatted blocks (a text chart) after them.
#[derive(Default)]
pub struct Section {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
    blocks: Vec<(String, String)>,
    words_left: bool,
}

impl Section {
    /// A section whose column headers are `header`, separated by ` | `.
    pub fn new(title: impl Into<String>, header: &str) -> Self {
        let header = header.split(" | ").map(str::to_owned).collect();
        Self {
            title: title.into(),
            header,
            ..Self::default()
        }
    }

    /// Adds a row (one cell per header; missing cells stay empty).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Adds a note printed under the table.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Aligns every cell to the left (for a table of descriptions, not figures).
    pub fn left_aligned(mut self) -> Self {
        self.words_left = true;
        self
    }

    /// Adds preformatted text under a caption; in Markdown it goes in a code block.
    pub fn preformatted(&mut self, caption: impl Into<String>, text: impl Into<String>) {
        self.blocks.push((caption.into(), text.into()));
    }

    /// The section as text: a boxed table, or a Markdown table and list.
    pub fn render(&self, markdown: bool) -> String {
        let mut table = Table::new();
        let preset = if markdown {
            presets::ASCII_MARKDOWN
        } else {
            presets::UTF8_FULL_CONDENSED
        };
        table.load_preset(preset).set_header(&self.header);
        for row in &self.rows {
            let mut cells = row.clone();
            cells.resize(self.header.len(), String::new());
            table.add_row(cells.into_iter().map(|text| {
                // Numbers read best right-aligned, words left-aligned.
                let numeric = !self.words_left
                    && (text.starts_with(|c: char| c.is_ascii_digit()) || text == "n/a");
                let align = if numeric {
                    CellAlignment::Right
                } else {
                    CellAlignment::Left
                };
                Cell::new(text).set_alignment(align)
            }));
        }
        let (mut out, bullet) = if markdown {
            (format!("### {}\n\n{table}\n", self.title), "- ")
        } else {
            (format!("== {} ==\n{table}\n", self.title), "  ")
        };
        let notes: String = self
            .notes
            .iter()
            .map(|note| format!("{bullet}{note}\n"))
            .collect();
        out += &if notes.is_empty() {
            notes
        } else {
            format!("\n{notes}")
        };
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
    let today = time::OffsetDateTime::now_utc().date();
    format!(
        "_Measured on {today} UTC by `player-bench` ({sizes})._\n\n{}",
        sections.join("\n")
    )
}

/// `doc` with the text between [`RESULTS_BEGIN`] and [`RESULTS_END`] replaced by `results`.
pub fn replace_results(doc: &str, results: &str) -> anyhow::Result<String> {
    let (Some(begin), Some(end)) = (doc.find(RESULTS_BEGIN), doc.find(RESULTS_END)) else {
        anyhow::bail!("the document has no `{RESULTS_BEGIN}` ... `{RESULTS_END}` markers");
    };
    anyhow::ensure!(begin < end, "the results markers are in the wrong order");
    let head = &doc[..begin + RESULTS_BEGIN.len()];
    Ok(format!("{head}\n\n{}\n\n{}", results.trim(), &doc[end..]))
}

/// A count or rate rounded to an integer, with thousands separators: `1234567.8` → `1,234,568`.
pub fn thousands(x: f64) -> String {
    if x.is_finite() && x >= 0.0 {
        indicatif::HumanCount(x.round() as u64).to_string()
    } else {
        "n/a".into()
    }
}

/// A ratio, or milliseconds, with two decimals; n/a when missing.
pub fn fixed(x: f64) -> String {
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
