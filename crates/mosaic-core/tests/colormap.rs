use mosaic_core::colormap::srgb_to_linear;
use mosaic_core::{Colormap, ValueRange};

#[test]
fn colormaps_hit_their_stops_and_interpolate_between() {
    for map in Colormap::ALL {
        let stops = map.stops();
        for (k, stop) in stops.iter().enumerate() {
            assert_eq!(map.srgb(k as f64 / 9.0), *stop, "{} stop {k}", map.name());
        }
        let mid = map.srgb(0.5 / 9.0);
        for c in 0..3 {
            let (lo, hi) = (stops[0][c].min(stops[1][c]), stops[0][c].max(stops[1][c]));
            assert!((lo..=hi).contains(&mid[c]));
        }
        assert_eq!(map.srgb(-1.0), stops[0]);
        assert_eq!(map.srgb(f64::NAN), stops[0]);
        assert_eq!(map.srgb(7.0), stops[9]);
    }
}

#[test]
fn viridis_lightness_increases_monotonically() {
    // Perceptual maps get lighter from low to high: a quick check on luma.
    let luma = |c: [u8; 3]| 0.2126 * srgb_to_linear(c[0]) + 0.7152 * srgb_to_linear(c[1]) + 0.0722 * srgb_to_linear(c[2]);
    let l: Vec<f32> = (0..=20).map(|i| luma(Colormap::Viridis.srgb(i as f64 / 20.0))).collect();
    assert!(l.windows(2).all(|w| w[1] > w[0]), "{l:?}");
}

#[test]
fn srgb_transfer_function_endpoints() {
    assert_eq!(srgb_to_linear(0), 0.0);
    assert!((srgb_to_linear(255) - 1.0).abs() < 1e-6);
    assert!((srgb_to_linear(188) - 0.5).abs() < 0.01);
}

#[test]
fn value_range_ignores_non_finite_values() {
    let r = ValueRange::of([3.0, f64::NAN, -1.0, f64::INFINITY, 5.0]).unwrap();
    assert_eq!((r.min, r.max), (-1.0, 5.0));
    assert_eq!(r.normalise(2.0), 0.5);
    assert_eq!(ValueRange::of([f64::NAN]), None);
    assert_eq!(ValueRange { min: 1.0, max: 1.0 }.normalise(1.0), 0.5);
}
