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

/// Line series on shared axes.
pub fn curves_svg(title: &str, series: &[Series]) -> String {
    let (w, h, left, top, right, bottom) = (520.0, 300.0, 60.0, 40.0, 20.0, 40.0);
    let points: Vec<[f64; 2]> = series.iter().flat_map(|s| s.2.iter().copied()).filter(|p| p[0].is_finite() && p[1].is_finite()).collect();
    let span = |k: usize| {
        let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| (l.min(p[k]), h.max(p[k])));
        if hi > lo { (lo, hi) } else { (lo - 0.5, lo + 0.5) }
    };
    let ((x0, x1), (y0, y1)) = if points.is_empty() { ((0.0, 1.0), (0.0, 1.0)) } else { (span(0), span(1)) };
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let sy = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom);
    let mut body = String::new();
    let _ = writeln!(body, "<text x=\"{left}\" y=\"20\" {FONT} font-weight=\"bold\">{}</text>", escape(title));
    let _ = writeln!(
        body,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>",
        w - left - right,
        h - top - bottom
    );
    for (v, y) in [(y0, h - bottom), (y1, top)] {
        let _ =
            writeln!(body, "<text x=\"{}\" y=\"{y}\" {FONT} text-anchor=\"end\" dominant-baseline=\"middle\">{v:.3}</text>", left - 4.0);
    }
    for (v, x) in [(x0, left), (x1, w - right)] {
        let _ = writeln!(body, "<text x=\"{x}\" y=\"{}\" {FONT} text-anchor=\"middle\">{v:.0}</text>", h - bottom + 14.0);
    }
    for (k, (name, [r, g, b], pts)) in series.iter().enumerate() {
        let coords: Vec<String> =
            pts.iter().filter(|p| p[0].is_finite() && p[1].is_finite()).map(|p| format!("{:.2},{:.2}", sx(p[0]), sy(p[1]))).collect();
        let _ = writeln!(
            body,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#{r:02x}{g:02x}{b:02x}\" stroke-width=\"2\"/>",
            coords.join(" ")
        );
        let ly = top + 14.0 + 14.0 * k as f64;
        let _ = writeln!(
            body,
            "<text x=\"{}\" y=\"{ly}\" {FONT} fill=\"#{r:02x}{g:02x}{b:02x}\" text-anchor=\"end\">{}</text>",
            w - right - 6.0,
            escape(name)
        );
    }
    svg(w, h, &body)
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
}
