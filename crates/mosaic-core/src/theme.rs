//! Look-and-feel constants shared by every renderer (window, offscreen,
//! video) and by the tests that check their pixels.

/// Background of the 3-D views (sRGB).
pub const BACKGROUND: [u8; 3] = [14, 17, 23];

/// Width of the explorer's side panel, in logical pixels.
pub const PANEL_WIDTH: f32 = 280.0;

// Marker colours (sRGB), outside every colour map so they never read as a value.

/// The selected network's ring: white, unlike any colour-map colour.
pub const RING: [u8; 3] = [255, 255, 255];
/// The marker playing along a training path.
pub const PLAYHEAD: [u8; 3] = RING;
/// The rings of the selection's neighbours and the links to them.
pub const LINK: [u8; 3] = [255, 176, 59];
/// The ring of a network whose training diverged.
pub const DIVERGED: [u8; 3] = [235, 40, 40];
/// A point whose mapped value is missing or not finite (a network not
/// trained yet): a dim grey that recedes behind the coloured points.
pub const MISSING_VALUE: [u8; 3] = [64, 68, 78];
/// The training path drawn on a loss landscape.
pub const PATH: [u8; 3] = [255, 84, 54];
/// The lowest point of a loss landscape.
pub const MINIMUM: [u8; 3] = [90, 230, 255];
/// The steps of a path between two architectures: violet.
pub const ARCH_PATH: [u8; 3] = [190, 140, 255];
/// The ring of a suggested (ghost) network: cyan.
pub const GHOST_RING: [u8; 3] = [70, 225, 235];
/// The halo around a cluster: a quiet grey-blue that stays behind the points.
pub const HALO: [u8; 3] = [150, 160, 185];
/// The runs standing on a hyper-parameter surface.
pub const HYPER_RUN: [u8; 3] = [235, 235, 235];

// Charts and text in the panels.

/// Training curves: the training split, and the validation split.
pub const TRAIN_CURVE: [u8; 3] = [120, 170, 255];
pub const VALIDATION_CURVE: [u8; 3] = [255, 176, 59];
/// Problems the app worked around, at the top of the panel.
pub const ERROR_TEXT: [u8; 3] = [255, 110, 90];
/// Why a section has nothing to show (no landscape, no path, no surface).
pub const WARNING_TEXT: [u8; 3] = [255, 140, 120];
/// Why there are no suggestions.
pub const SUGGESTION_WARNING: [u8; 3] = [255, 170, 90];
/// The last thing done (a file written).
pub const INFO_TEXT: [u8; 3] = [150, 220, 150];
/// The line under the title about work in progress.
pub const STATUS_TEXT: [u8; 3] = [150, 200, 255];
/// The landscape's frame and axes.
pub const LANDSCAPE_FRAME: [u8; 3] = [96, 104, 120];
/// Tick labels and axis names over the 3-D view.
pub const AXIS_TEXT: [u8; 3] = [170, 178, 194];
/// Correlation heatmap: r = -1, 0 and 1.
pub const CORRELATION_NEGATIVE: [u8; 3] = [59, 110, 220];
pub const CORRELATION_ZERO: [u8; 3] = [72, 72, 78];
pub const CORRELATION_POSITIVE: [u8; 3] = [220, 60, 50];
/// A heatmap cell with no correlation (a constant column).
pub const CORRELATION_UNDEFINED: [u8; 3] = [30, 30, 34];
/// The fill of the headset's tooltip board.
pub const TOOLTIP_FILL: [u8; 3] = [38, 44, 62];
