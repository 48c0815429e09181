//! Perceptually uniform colour maps, shared by the 3-D views, legends and exports.
//!
//! Each map is ten sRGB stops at `t = k/9` (the published values of the
//! matplotlib maps); colours in between are interpolated in sRGB, as
//! matplotlib does, so a legend drawn in 2-D and a point drawn in 3-D agree.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Colormap {
    #[default]
    Viridis,
    Plasma,
    Inferno,
}

const VIRIDIS: [u32; 10] = [0x440154, 0x482878, 0x3e4a89, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6dcd59, 0xb4de2c, 0xfde725];
const PLASMA: [u32; 10] = [0x0d0887, 0x46039f, 0x7201a8, 0x9c179e, 0xbd3786, 0xd8576b, 0xed7953, 0xfb9f3a, 0xfdca26, 0xf0f921];
const INFERNO: [u32; 10] = [0x000004, 0x1b0c41, 0x4a0c6b, 0x781c6d, 0xa52c60, 0xcf4446, 0xed6925, 0xfb9b06, 0xf7d13d, 0xfcffa4];

impl Colormap {
    pub const ALL: [Colormap; 3] = [Colormap::Viridis, Colormap::Plasma, Colormap::Inferno];

    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Plasma => "plasma",
            Colormap::Inferno => "inferno",
        }
    }

    /// The map's defining sRGB stops, evenly spaced over [0, 1].
    pub fn stops(self) -> [[u8; 3]; 10] {
        let hex = match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Plasma => &PLASMA,
            Colormap::Inferno => &INFERNO,
        };
        hex.map(|c| [(c >> 16) as u8, (c >> 8) as u8, c as u8])
    }

    /// sRGB colour at `t` in [0, 1] (clamped; NaN gives the low end).
    pub fn srgb(self, t: f64) -> [u8; 3] {
        let stops = self.stops();
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let x = t * (stops.len() - 1) as f64;
        let i = (x.floor() as usize).min(stops.len() - 2);
        let f = x - i as f64;
        std::array::from_fn(|c| {
            let (a, b) = (stops[i][c] as f64, stops[i + 1][c] as f64);
            (a + (b - a) * f).round() as u8
        })
    }

    /// Linear-light RGB at `t`, for shaders that write to an sRGB target.
    pub fn linear(self, t: f64) -> [f32; 3] {
        self.srgb(t).map(srgb_to_linear)
    }
}

/// The sRGB transfer function, inverted (IEC 61966-2-1).
pub fn srgb_to_linear(c: u8) -> f32 {
    let c = c as f32 / 255.0;
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

/// Normalises values to [0, 1] over their finite range, for colouring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueRange {
    pub min: f64,
    pub max: f64,
}

impl ValueRange {
    /// The range of the finite values, `None` if there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<ValueRange> {
        values.into_iter().filter(|v| v.is_finite()).fold(None, |r, v| match r {
            None => Some(ValueRange { min: v, max: v }),
            Some(r) => Some(ValueRange { min: r.min.min(v), max: r.max.max(v) }),
        })
    }

    /// Position of `v` in the range; a degenerate range maps everything to 0.5.
    pub fn normalise(&self, v: f64) -> f64 {
        if self.max > self.min { ((v - self.min) / (self.max - self.min)).clamp(0.0, 1.0) } else { 0.5 }
    }
}
