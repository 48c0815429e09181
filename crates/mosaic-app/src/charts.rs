//! The analysis charts as SVG, for papers: the correlation heatmap, a
//! network's training curves, and the knobs' importance. Plain SVG 1.1,
//! text as text, colours as the app draws them.

use std::fmt::Write;

use crate::analysis::{CorrelationTable, HyperView, diverging};

const FONT: &str = "font-family=\"sans-serif\" font-size=\"11\"";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn svg(width: f64, height: f64, body: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// The correlation heatmap, with the names on both axes and r in each cell.
pub fn heatmap_svg(table: &CorrelationTable) -> String {
    let k = table.names.len();
    let (cell, left, top) = (34.0, 170.0, 170.0);
    let mut body = String::new();
    let _ = writeln!(body, "<text x=\"10\" y=\"20\" {FONT} font-weight=\"bold\">{} correlations</text>", table.method.name());
    for (i, name) in table.names.iter().enumerate() {
        let y = top + (i as f64 + 0.5) * cell;
        let x = left + (i as f64 + 0.5) * cell;
        let _ = writeln!(
            body,
            "<text x=\"{}\" y=\"{y}\" {FONT} text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
            left - 6.0,
            escape(name)
        );
        let _ = writeln!(body, "<text transform=\"translate({x},{}) rotate(-60)\" {FONT}>{}</text>", top - 6.0, escape(name));
        for j in 0..k {
            let r = table.r[i][j];
            let c = diverging(r);
            let (cx, cy) = (left + j as f64 * cell, top + i as f64 * cell);
            let _ = writeln!(
                body,
                "<rect x=\"{cx}\" y=\"{cy}\" width=\"{}\" height=\"{}\" fill=\"#{:02x}{:02x}{:02x}\"><title>{} x {}: r = {r:.3}, p = {:.2e}</title></rect>",
                cell - 1.0,
                cell - 1.0,
                c.r(),
                c.g(),
                c.b(),
                escape(name),
                escape(&table.names[j]),
                table.p[i][j]
            );
            if r.is_finite() {
                let _ = writeln!(
                    body,
                    "<text x=\"{}\" y=\"{}\" {FONT} font-size=\"9\" fill=\"white\" text-anchor=\"middle\" dominant-baseline=\"middle\">{r:.2}</text>",
                    cx + cell / 2.0,
                    cy + cell / 2.0
                );
            }
        }
    }
    svg(left + cell * k as f64 + 20.0, top + cell * k as f64 + 20.0, &body)
}

/// One line of a chart: its name, colour (sRGB) and points.
pub type Series = (String, [u8; 3], Vec<[f64; 2]>);

/// A chart's frame: its title, box, extreme ticks, optional axis names,
/// and the map from data to page coordinates.
struct Axes {
    w: f64,
    h: f64,
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
    x: (f64, f64),
    y: (f64, f64),
}

impl Axes {
    /// Axes spanning the finite `points`, drawn into `body`.
    fn draw(body: &mut String, title: &str, names: [&str; 2], points: &[[f64; 2]]) -> Axes {
        let points: Vec<[f64; 2]> = points.iter().copied().filter(|p| p[0].is_finite() && p[1].is_finite()).collect();
        let span = |k: usize| {
            let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| (l.min(p[k]), h.max(p[k])));
            if hi > lo { (lo, hi) } else { (lo - 0.5, lo + 0.5) }
        };
        let (x, y) = if points.is_empty() { ((0.0, 1.0), (0.0, 1.0)) } else { (span(0), span(1)) };
        let a = Axes { w: 520.0, h: 300.0, left: 60.0, top: 40.0, right: 20.0, bottom: 40.0, x, y };
        let (left, top, w, h, right, bottom) = (a.left, a.top, a.w, a.h, a.right, a.bottom);
        let _ = writeln!(body, "<text x=\"{left}\" y=\"20\" {FONT} font-weight=\"bold\">{}</text>", escape(title));
        let _ = writeln!(
            body,
            "<rect x=\"{left}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>",
            w - left - right,
            h - top - bottom
        );
        for (v, py) in [(y.0, h - bottom), (y.1, top)] {
            let _ = writeln!(
                body,
                "<text x=\"{}\" y=\"{py}\" {FONT} text-anchor=\"end\" dominant-baseline=\"middle\">{v:.3}</text>",
                left - 4.0
            );
        }
        // Whole-number ends (epochs, evaluations) print as such.
        let digits = if x.0.fract() == 0.0 && x.1.fract() == 0.0 { 0 } else { 2 };
        for (v, px) in [(x.0, left), (x.1, w - right)] {
            let _ = writeln!(body, "<text x=\"{px}\" y=\"{}\" {FONT} text-anchor=\"middle\">{v:.digits$}</text>", h - bottom + 14.0);
        }
        if !names[0].is_empty() {
            let _ = writeln!(
                body,
                "<text x=\"{}\" y=\"{}\" {FONT} text-anchor=\"middle\">{}</text>",
                (left + w - right) / 2.0,
                h - 8.0,
                escape(names[0])
            );
        }
        if !names[1].is_empty() {
            let (cx, cy) = (14.0, (top + h - bottom) / 2.0);
            let _ = writeln!(
                body,
                "<text x=\"{cx}\" y=\"{cy}\" {FONT} text-anchor=\"middle\" transform=\"rotate(-90 {cx} {cy})\">{}</text>",
                escape(names[1])
            );
        }
        a
    }

    fn page(&self, p: [f64; 2]) -> (f64, f64) {
        let px = self.left + (p[0] - self.x.0) / (self.x.1 - self.x.0) * (self.w - self.left - self.right);
        let py = self.h - self.bottom - (p[1] - self.y.0) / (self.y.1 - self.y.0) * (self.h - self.top - self.bottom);
        (px, py)
    }
}

/// Line series on shared axes.
pub fn curves_svg(title: &str, series: &[Series]) -> String {
    let points: Vec<[f64; 2]> = series.iter().flat_map(|s| s.2.iter().copied()).collect();
    let mut body = String::new();
    let axes = Axes::draw(&mut body, title, ["", ""], &points);
    for (k, (name, [r, g, b], pts)) in series.iter().enumerate() {
        let coords: Vec<String> = pts
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .map(|&p| {
                let (x, y) = axes.page(p);
                format!("{x:.2},{y:.2}")
            })
            .collect();
        let _ = writeln!(
            body,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#{r:02x}{g:02x}{b:02x}\" stroke-width=\"2\"/>",
            coords.join(" ")
        );
        let ly = axes.top + 14.0 + 14.0 * k as f64;
        let _ = writeln!(
            body,
            "<text x=\"{}\" y=\"{ly}\" {FONT} fill=\"#{r:02x}{g:02x}{b:02x}\" text-anchor=\"end\">{}</text>",
            axes.w - axes.right - 6.0,
            escape(name)
        );
    }
    svg(axes.w, axes.h, &body)
}

/// Points on named axes, one dot each (a feature against accuracy, say).
pub fn scatter_svg(title: &str, x_name: &str, y_name: &str, points: &[[f64; 2]], [r, g, b]: [u8; 3]) -> String {
    let mut body = String::new();
    let axes = Axes::draw(&mut body, title, [x_name, y_name], points);
    for &p in points.iter().filter(|p| p[0].is_finite() && p[1].is_finite()) {
        let (x, y) = axes.page(p);
        let _ = writeln!(body, "<circle cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"2.5\" fill=\"#{r:02x}{g:02x}{b:02x}\" fill-opacity=\"0.7\"/>");
    }
    svg(axes.w, axes.h, &body)
}

/// The knobs' importance for a target, as horizontal bars.
pub fn importance_svg(view: &HyperView) -> String {
    let (left, bar, row, top) = (170.0, 300.0, 22.0, 40.0);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<text x=\"10\" y=\"20\" {FONT} font-weight=\"bold\">What explains {} (variance shares, main effects)</text>",
        escape(&view.target)
    );
    for (i, (knob, share)) in view.importance.iter().enumerate() {
        let y = top + i as f64 * row;
        let _ = writeln!(body, "<text x=\"{}\" y=\"{}\" {FONT} text-anchor=\"end\">{}</text>", left - 6.0, y + 12.0, escape(knob));
        let _ = writeln!(body, "<rect x=\"{left}\" y=\"{y}\" width=\"{bar}\" height=\"16\" fill=\"#eeeeee\"/>");
        let _ =
            writeln!(body, "<rect x=\"{left}\" y=\"{y}\" width=\"{:.2}\" height=\"16\" fill=\"#ffb03b\"/>", bar * share.clamp(0.0, 1.0));
        let _ = writeln!(body, "<text x=\"{}\" y=\"{}\" {FONT}>{:.0}%</text>", left + bar + 6.0, y + 12.0, 100.0 * share);
    }
    svg(left + bar + 60.0, top + row * view.importance.len() as f64 + 10.0, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::CorrelationMethod;
    use crate::inspect::LandscapeData;

    #[test]
    fn the_heatmap_has_a_cell_per_pair_in_the_app_colours() {
        let table = CorrelationTable {
            method: CorrelationMethod::Spearman,
            names: vec!["depth".into(), "a<b".into()],
            r: vec![vec![1.0, -0.5], vec![-0.5, 1.0]],
            p: vec![vec![0.0, 0.1], vec![0.1, 0.0]],
            note: String::new(),
        };
        let svg = heatmap_svg(&table);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect x=").count(), 4);
        let red = diverging(1.0);
        assert!(svg.contains(&format!("fill=\"#{:02x}{:02x}{:02x}\"", red.r(), red.g(), red.b())));
        assert!(svg.contains("a&lt;b") && !svg.contains("a<b"), "names are escaped");
        assert!(svg.contains(">-0.50<"));
    }

    #[test]
    fn curves_and_importance_draw_their_data() {
        let svg = curves_svg("loss", &[("train".into(), [120, 170, 255], vec![[1.0, 0.9], [2.0, 0.5], [3.0, 0.4]])]);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("stroke=\"#78aaff\""));
        let view = HyperView {
            x_name: "a".into(),
            y_name: "b".into(),
            target: "acc".into(),
            surface: LandscapeData { x: vec![], y: vec![], loss: vec![], path: vec![], caption: String::new() },
            runs: vec![],
            exact: false,
            importance: vec![("width".into(), 0.5), ("depth".into(), 0.25)],
        };
        let svg = importance_svg(&view);
        assert!(svg.contains("width=\"150.00\"") && svg.contains("width=\"75.00\""), "bars scale with the shares");
    }

    #[test]
    fn scatter_places_each_point_within_its_named_axes() {
        let svg = scatter_svg(
            "entropy vs accuracy",
            "spectral entropy",
            "test accuracy",
            &[[0.5, 0.7], [1.5, 0.9], [f64::NAN, 0.8]],
            [200, 80, 40],
        );
        assert_eq!(svg.matches("<circle").count(), 2, "the NaN point is left out");
        // The extremes sit on the box's corners: (60, 260) and (500, 40).
        assert!(svg.contains("cx=\"60.00\" cy=\"260.00\"") && svg.contains("cx=\"500.00\" cy=\"40.00\""), "{svg}");
        assert!(svg.contains(">spectral entropy<") && svg.contains("rotate(-90") && svg.contains(">0.50<"), "{svg}");
    }
}
