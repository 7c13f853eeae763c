//! Charts of throughput against workers: text bars for the terminal and
//! Markdown, and a small SVG line chart for docs.

use std::fmt::Write;

/// One point: a worker count and its throughput.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Workers.
    pub x: usize,
    /// Throughput.
    pub y: f64,
    /// A second line of text under the point in the SVG chart (e.g. its p99 latency).
    pub note: Option<String>,
}

/// Width of the longest text bar, in characters.
const BAR_WIDTH: usize = 40;

/// One line per point: the x value, a bar scaled to the largest y, and y.
pub fn text_bars(points: &[Point], unit: &str) -> String {
    let max = points.iter().map(|p| p.y).fold(0.0, f64::max);
    let mut out = String::new();
    for p in points {
        let len = if max > 0.0 {
            ((p.y / max) * BAR_WIDTH as f64).round() as usize
        } else {
            0
        };
        let _ = writeln!(
            out,
            "{:>3} workers {:<width$} {} {unit}",
            p.x,
            "█".repeat(len),
            crate::report::thousands(p.y),
            width = BAR_WIDTH
        );
    }
    out
}

/// An SVG line chart of `points`: x on a log-2 axis (worker counts double), y
/// from zero, each point labelled with its value.
pub fn svg(points: &[Point], title: &str, x_label: &str, y_label: &str) -> String {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 35.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    let (plot_w, plot_h) = (W - LEFT - RIGHT, H - TOP - BOTTOM);

    let log = |x: usize| (x.max(1) as f64).log2();
    let (x_min, x_max) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(log(p.x)), hi.max(log(p.x)))
    });
    let x_span = if x_max > x_min { x_max - x_min } else { 1.0 };
    let y_max = nice_ceiling(points.iter().map(|p| p.y).fold(0.0, f64::max));
    let px = |x: usize| LEFT + (log(x) - x_min) / x_span * plot_w;
    let py = |y: f64| TOP + plot_h - y / y_max * plot_h;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    // Horizontal grid lines with y labels.
    for i in 0..=4 {
        let y = y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            py(y) + 4.0,
            crate::report::thousands(y),
            y0 = py(y),
        );
    }
    // X ticks at each point's worker count.
    for p in points {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            px(p.x),
            TOP + plot_h + 18.0,
            p.x
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        H - 8.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(16 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    let path: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", px(p.x), py(p.y)))
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2"/>"##,
        path.join(" ")
    );
    for p in points {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f77b4"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
            px(p.x),
            py(p.y),
            px(p.x),
            py(p.y) - 9.0,
            crate::report::thousands(p.y)
        );
        if let Some(note) = &p.note {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10" fill="#777">{}</text>"##,
                px(p.x),
                py(p.y) + 17.0,
                escape(note)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// A named line of a chart with several: one value (or none) per x tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// One value per tick; `None` leaves a gap.
    pub values: Vec<Option<f64>>,
}

/// Line colours, one per series in turn.
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// An SVG line chart of several series over the same x ticks (evenly spaced),
/// y on a log-10 scale (values span orders of magnitude), with a legend that
/// gives each series' values in tick order.
pub fn svg_series(
    series: &[Series],
    ticks: &[String],
    title: &str,
    x_label: &str,
    y_label: &str,
) -> String {
    const W: f64 = 760.0;
    const H: f64 = 440.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 250.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    let (plot_w, plot_h) = (W - LEFT - RIGHT, H - TOP - BOTTOM);

    let values = || {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .filter(|v| *v > 0.0 && v.is_finite())
    };
    let lo = values().fold(f64::MAX, f64::min);
    let hi = values().fold(0.0, f64::max);
    let (lo, hi) = if hi > 0.0 { (lo, hi) } else { (1.0, 10.0) };
    let (d_lo, d_hi) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let px = |i: usize| {
        LEFT + if ticks.len() > 1 {
            i as f64 / (ticks.len() - 1) as f64 * plot_w
        } else {
            plot_w / 2.0
        }
    };
    let py = |y: f64| TOP + plot_h - (y.log10() - d_lo) / (d_hi - d_lo) * plot_h;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        escape(title)
    );
    // Grid lines at 1, 2 and 5 times each power of ten, labelled at the powers.
    let mut decade = d_lo;
    while decade < d_hi {
        for m in [1.0, 2.0, 5.0] {
            let y = 10f64.powf(decade) * m;
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="{}"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                W - RIGHT,
                if m == 1.0 { "#ccc" } else { "#eee" },
                LEFT - 6.0,
                py(y) + 4.0,
                crate::report::thousands(y),
                y0 = py(y),
            );
        }
        decade += 1.0;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#ccc"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
        W - RIGHT,
        LEFT - 6.0,
        py(10f64.powf(d_hi)) + 4.0,
        crate::report::thousands(10f64.powf(d_hi)),
        y0 = py(10f64.powf(d_hi)),
    );
    for (i, t) in ticks.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            px(i),
            TOP + plot_h + 18.0,
            escape(t)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        H - 8.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(16 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="11" fill="#555">values at {}</text>"##,
        W - RIGHT + 15.0,
        TOP - 8.0,
        escape(&ticks.join(" → "))
    );
    for (k, line) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points: Vec<(usize, f64)> = line
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|v| *v > 0.0 && v.is_finite()).map(|v| (i, v)))
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|&(i, v)| format!("{:.1},{:.1}", px(i), py(v)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for &(i, v) in &points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"#,
                px(i),
                py(v),
            );
        }
        // The figures go in the legend, where lines that run close cannot hide them.
        let figures: Vec<String> = line
            .values
            .iter()
            .map(|v| v.map_or("n/a".into(), crate::report::thousands))
            .collect();
        let ly = TOP + 10.0 + 34.0 * k as f64;
        let lx = W - RIGHT + 15.0;
        let _ = writeln!(
            s,
            r##"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{}</text><text x="{}" y="{}" font-size="11" fill="#555">{}</text>"##,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            escape(&line.name),
            lx + 26.0,
            ly + 18.0,
            escape(&figures.join(" → "))
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The smallest of 1, 2, 2.5, 4, 5, 6 or 8 times a power of ten that is at least `x`
/// (1 for x ≤ 0): an axis top whose quarters are round numbers.
fn nice_ceiling(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&v| v >= x)
        .unwrap_or(10.0 * power)
}

/// Text with the XML special characters escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 8.0);
        assert_eq!(nice_ceiling(1_234.0), 2_000.0);
        assert_eq!(nice_ceiling(2_100.0), 2_500.0);
        assert_eq!(nice_ceiling(5_000.0), 5_000.0);
        assert_eq!(nice_ceiling(5_348.0), 6_000.0);
        assert_eq!(nice_ceiling(9_000.0), 10_000.0);
    }

    #[test]
    fn charts_have_one_mark_per_point() {
        let point = |x, y| Point { x, y, note: None };
        let mut points = [point(1, 100.0), point(2, 180.0), point(4, 200.0)];
        points[2].note = Some("p99 <3 ms".into());
        let bars = text_bars(&points, "trades/s");
        assert_eq!(bars.lines().count(), 3);
        assert!(
            bars.lines()
                .nth(2)
                .is_some_and(|l| l.contains(&"█".repeat(BAR_WIDTH)))
        );
        let svg = svg(&points, "T <1>", "workers", "trades/s");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("T &lt;1&gt;") && svg.contains("p99 &lt;3 ms"));
    }

    #[test]
    fn series_charts_have_a_line_per_series_and_skip_gaps() {
        let series = [
            Series {
                name: "a & b".into(),
                values: vec![Some(5_000.0), Some(600.0), Some(150.0)],
            },
            Series {
                name: "c".into(),
                values: vec![Some(2_000.0), None, Some(30.0)],
            },
        ];
        let ticks = ["0".to_owned(), "1".to_owned(), "5".to_owned()];
        let svg = svg_series(&series, &ticks, "T", "rtt", "trades/s");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("a &amp; b") && svg.contains("2,000 → n/a → 30"));
        // Decades from 10 to 10,000 label the log axis.
        assert!(svg.contains(">10<") && svg.contains(">10,000<"), "{svg}");
    }
}
