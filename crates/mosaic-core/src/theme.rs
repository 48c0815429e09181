//! Look-and-feel constants shared by every renderer (window, offscreen,
//! video) and by the tests that check their pixels.

/// Background of the 3-D views (sRGB).
pub const BACKGROUND: [u8; 3] = [14, 17, 23];

/// Width of the explorer's side panel, in logical pixels.
pub const PANEL_WIDTH: f32 = 280.0;
