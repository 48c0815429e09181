//! The explorer's drill-down as a person sees it: a selected network ringed,
//! its neighbours linked, its details in the panel, and its loss landscape
//! beside the sphere with the training path on it. Rendered offscreen on
//! Mesa's software Vulkan; PNGs stay under `target/tmp/<test>/` to look at.

mod common;

use common::{
    LandscapeShot, Manifest, color_near, count_color, load, mosaic, read_manifest, run_ok, scratch_dir, snapshot, tiny_space, trained_run,
};
use mosaic_core::Colormap;
use mosaic_core::theme::{
    ARCH_PATH, AXIS_TEXT, CORRELATION_POSITIVE, DIVERGED, GHOST_RING, HALO, HYPER_RUN, LINK, MINIMUM, PANEL_WIDTH, PATH, RING, TRAIN_CURVE,
    VALIDATION_CURVE,
};

/// The selected point wears the white ring; each neighbour (unless a
/// nearer point hides it) wears the link-coloured ring, and the link from
/// the selection to it shows half-way along.
fn assert_selection_and_neighbours(img: &image::RgbImage, m: &Manifest, expected_neighbours: usize) {
    let selected = m.point(m.selected.expect("a selection"));
    assert!(color_near(img, selected.x, selected.y, selected.radius_px, RING, 20), "no ring around the selection {selected:?}");
    assert_eq!(m.neighbours.len(), expected_neighbours);
    let ringed = m.neighbours.iter().map(|&j| m.point(j)).filter(|p| color_near(img, p.x, p.y, p.radius_px, LINK, 30)).count();
    let linked = m
        .neighbours
        .iter()
        .map(|&j| m.point(j))
        .filter(|p| color_near(img, (p.x + selected.x) / 2.0, (p.y + selected.y) / 2.0, 2.5, LINK, 30))
        .count();
    let need = expected_neighbours.div_ceil(2);
    assert!(ringed >= need && linked >= need, "{ringed} neighbours ringed and {linked} linked, of {expected_neighbours}");
}

/// Linear-light chromaticity of an sRGB colour: the share of each channel.
fn chroma(c: [u8; 3]) -> [f64; 3] {
    let lin = c.map(|v| mosaic_core::colormap::srgb_to_linear(v) as f64);
    let sum = lin.iter().sum::<f64>().max(1e-6);
    lin.map(|v| v / sum)
}

/// Every grid point of the surface shows the colour map's colour at its
/// height: the same hue (lighting only scales it), in most places (the path
/// and markers cover a few, contour lines darken some).
fn assert_surface_coloured_by_height(img: &image::RgbImage, shot: &LandscapeShot, map: Colormap) {
    let samples: Vec<_> = shot
        .grid
        .iter()
        .filter(|g| g.finite && g.x >= PANEL_WIDTH + 2.0 && g.x < img.width() as f32 - 2.0 && g.y > 2.0 && g.y < img.height() as f32 - 2.0)
        .collect();
    assert!(samples.len() * 2 > shot.grid.len(), "only {} of {} grid points in view", samples.len(), shot.grid.len());
    let matching = samples
        .iter()
        .filter(|g| {
            let want = chroma(map.srgb(g.t as f64));
            let px = img.get_pixel(g.x as u32, g.y as u32).0;
            let got = chroma(px);
            (0..3).map(|c| (want[c] - got[c]).abs()).fold(0.0, f64::max) < 0.06
        })
        .count();
    let share = matching as f64 / samples.len() as f64;
    assert!(share > 0.8, "only {:.0}% of grid points show the colour of their height", 100.0 * share);
    // Low and high ends both appear: the surface spans the map.
    for (lo, hi) in [(0.0, 0.15), (0.85, 1.0)] {
        assert!(samples.iter().any(|g| (lo..=hi).contains(&g.t)), "no grid point with height in {lo}..{hi}");
    }
}

#[test]
fn a_selected_network_shows_its_neighbours_details_and_landscape_with_its_path() {
    let dir = scratch_dir("explorer_drilldown");
    let (store, done) = trained_run(&dir, "400", "final");
    let (png, json) = (dir.join("drilldown.png"), dir.join("drilldown.json"));
    // The run kept only its final weights: the explorer replays it to
    // record its path, computes the surface, and keeps both in the run's folder.
    run_ok(
        snapshot(&png, &json)
            .args(["--layout", "design", "--width", "1280", "--height", "720", "--select", &done.id.to_string()])
            .arg("--store")
            .arg(&store),
    );
    let img = load(&png);
    let m = read_manifest(&json);
    assert!(store.join("runs").join(done.id.to_string()).join("trajectory.npy").is_file(), "the landscape is kept");

    assert_selection_and_neighbours(&img, &m, 2);
    let shot = m.landscape.as_ref().expect("the landscape opened");
    assert_eq!(shot.path.len(), done.arch().unwrap().epochs as usize, "one checkpoint per epoch");
    let on_path = shot.path.iter().filter(|p| color_near(&img, p[0], p[1], 4.0, PATH, 30)).count();
    assert!(on_path * 10 >= shot.path.len() * 8, "the path shows at {on_path} of {} checkpoints", shot.path.len());
    let [x, y] = shot.minimum.expect("a lowest point");
    assert!(color_near(&img, x, y, 6.0, MINIMUM, 30), "no minimum marker at ({x}, {y})");
    assert_surface_coloured_by_height(&img, shot, Colormap::Viridis);
    // The landscape sits right of the sphere, both in view.
    let sphere_right = m.points.iter().map(|p| p.x).fold(f32::MIN, f32::max);
    let surface_left = shot.grid.iter().map(|g| g.x).fold(f32::MAX, f32::min);
    assert!(surface_left > sphere_right, "landscape ({surface_left}) overlaps the sphere ({sphere_right})");

    // The landscape's axes are numbered beside it.
    let axis_text = count_color(&img, PANEL_WIDTH as u32, 0, img.width(), img.height(), AXIS_TEXT, 12);
    assert!(axis_text > 30, "the landscape's axes carry no numbers ({axis_text} px)");

    // The inspector draws the run's training curves in the panel.
    let curve = count_color(&img, 0, 0, PANEL_WIDTH as u32, img.height(), TRAIN_CURVE, 12);
    assert!(curve > 40, "no training curve in the panel ({curve} px)");
}

#[test]
fn a_sampled_design_selects_without_a_landscape_and_bad_selections_are_named() {
    let dir = scratch_dir("explorer_design_select");
    let (png, json) = (dir.join("design.png"), dir.join("design.json"));
    run_ok(snapshot(&png, &json).args(["--width", "960", "--height", "540", "--select", "17"]));
    let img = load(&png);
    let m = read_manifest(&json);
    assert_eq!(m.selected, Some(17));
    assert!(m.landscape.is_none(), "a sampled architecture has no weights, so no landscape");
    assert_selection_and_neighbours(&img, &m, 5);

    let out = mosaic().args(["snapshot", "--select", "200", "--out"]).arg(dir.join("none.png")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--select 200") && err.contains("0..200"), "{err}");
}

#[test]
fn the_analysis_window_shows_correlations_coordinates_dynamics_and_complexity() {
    let dir = scratch_dir("explorer_analysis");
    let (store, done) = trained_run(&dir, "300", "final");
    let session = dir.join("analysis.ron");
    std::fs::write(&session, "(panels: [\"analysis\"])").unwrap();
    let png = dir.join("analysis.png");
    run_ok(
        mosaic()
            .args(["snapshot", "--layout", "design", "--width", "1600", "--height", "1000", "--select", &done.id.to_string()])
            .arg("--store")
            .arg(&store)
            .arg("--session")
            .arg(&session)
            .arg("--out")
            .arg(&png),
    );
    let img = load(&png);
    // The window sits at the top right, over the 3-D view.
    let (x0, w) = (1600 - 530, 1600);
    let count = |color: [u8; 3], tolerance: u8| count_color(&img, x0, 0, w, img.height(), color, tolerance);
    // Heatmap: every column correlates perfectly with itself (r = 1: full red).
    let perfect = count(CORRELATION_POSITIVE, 6);
    assert!(perfect > 8 * 100, "no diagonal of r = 1 in the heatmap ({perfect} px)");
    // Parallel coordinates: the selected network's white line.
    assert!(count(RING, 10) > 300, "no selected line in the parallel coordinates");
    // Dynamics of validation loss (orange) and accuracy (blue), and the radar's orange outline.
    assert!(count(VALIDATION_CURVE, 20) > 400, "no validation-loss dynamics or radar");
    assert!(count(TRAIN_CURVE, 20) > 100, "no validation-accuracy dynamics");
}

#[test]
fn runs_that_diverged_wear_a_red_ring() {
    let dir = scratch_dir("explorer_diverged");
    // Learning rates far too large for plain SGD: training blows up.
    let space = dir.join("space.ron");
    let text = mosaic_core::space::DEMO_SPACE_RON
        .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 2)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 8, max: 16, log: true)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 3, max: 4)")
        .replace("optimizers: [SgdMomentum, Adam, AdamW]", "optimizers: [SgdMomentum]")
        .replace("learning_rate: (min: 1e-4, max: 1e-1, log: true)", "learning_rate: (min: 5.0, max: 10.0, log: true)");
    std::fs::write(&space, text).unwrap();
    let store = dir.join("store");
    run_ok(mosaic().args(["sweep", "--examples", "200", "--n", "4", "--store"]).arg(&store).arg("--space").arg(&space));
    let (png, json) = (dir.join("diverged.png"), dir.join("diverged.json"));
    run_ok(
        snapshot(&png, &json)
            .args(["--layout", "design", "--color-by", "depth", "--width", "960", "--height", "540", "--store"])
            .arg(&store),
    );
    let img = load(&png);
    let m = read_manifest(&json);
    let diverged: Vec<_> = m.points.iter().filter(|p| p.diverged).collect();
    assert!(!diverged.is_empty(), "no run diverged at learning rates of 5 to 10");
    for p in diverged {
        assert!(color_near(&img, p.x, p.y, p.radius_px, DIVERGED, 30), "no red ring on diverged {}", p.label);
    }
}

#[test]
fn a_hyper_parameter_surface_stands_beside_the_sphere_with_its_runs() {
    let dir = scratch_dir("explorer_hyper");
    let session = dir.join("hyper.ron");
    std::fs::write(&session, "(hyper: (x: \"width\", y: \"depth\", target: \"log10 parameters\", show: true))").unwrap();
    let (png, json) = (dir.join("hyper.png"), dir.join("hyper.json"));
    run_ok(snapshot(&png, &json).args(["--width", "1280", "--height", "720", "--session"]).arg(&session));
    let img = load(&png);
    let m = read_manifest(&json);
    let shot = m.hyper.as_ref().expect("the surface is in the world");
    assert_eq!(shot.path.len(), 200, "every sampled architecture stands on it as a run");
    assert_surface_coloured_by_height(&img, shot, Colormap::Plasma);
    let runs_shown = shot.path.iter().filter(|p| color_near(&img, p[0], p[1], 3.0, HYPER_RUN, 30)).count();
    assert!(runs_shown * 2 >= shot.path.len(), "only {runs_shown} of {} runs drawn", shot.path.len());
    // Left of the sphere.
    let sphere_left = m.points.iter().map(|p| p.x).fold(f32::MAX, f32::min);
    let surface_right = shot.grid.iter().map(|g| g.x).fold(f32::MIN, f32::max);
    assert!(surface_right < sphere_left, "the surface ({surface_right}) overlaps the sphere ({sphere_left})");
}

#[test]
fn the_path_between_two_networks_is_drawn_on_the_sphere() {
    let dir = scratch_dir("explorer_path");
    let store = dir.join("store");
    run_ok(mosaic().args(["sweep", "--examples", "300", "--n", "8", "--store"]).arg(&store).arg("--space").arg(tiny_space(&dir)));
    run_ok(mosaic().args(["embed", "--store"]).arg(&store));
    let db = mosaic_store::open(&store).unwrap();
    let runs = db.runs(db.sweeps().unwrap()[0].id).unwrap();
    let (a, b) = (runs[0].id.to_string(), runs[runs.len() - 1].id.to_string());
    let (png, json) = (dir.join("path.png"), dir.join("path.json"));
    run_ok(snapshot(&png, &json).args(["--width", "960", "--height", "1200", "--select", &a, "--path-to", &b, "--store"]).arg(&store));
    let img = load(&png);
    let m = read_manifest(&json);
    assert_eq!(m.path.len(), 9, "8 steps: 9 architectures");
    let violet = count_color(&img, PANEL_WIDTH as u32, 0, img.width(), img.height(), ARCH_PATH, 30);
    assert!(violet > 40, "the path is not drawn ({violet} violet pixels)");
    // In the panel, the path's heading and its steps.
    let listed = count_color(&img, 0, 0, PANEL_WIDTH as u32, img.height(), ARCH_PATH, 30);
    assert!(listed > 20, "the panel does not show the path ({listed} px)");
}

#[test]
fn clusters_wear_halos_and_labels() {
    let dir = scratch_dir("explorer_clusters");
    // Few choices: many sampled architectures coincide, in well-parted groups.
    let space = dir.join("few.ron");
    let text = mosaic_core::space::DEMO_SPACE_RON
        .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 3)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 32, max: 32)")
        .replace("taper: (min: 0.5, max: 1.0)", "taper: (min: 1.0, max: 1.0)")
        .replace("activations: [Relu, Gelu, Tanh, Silu]", "activations: [Relu, Tanh]")
        .replace("norms: [None, Layer, Batch]", "norms: [None]")
        .replace("dropout: (min: 0.0, max: 0.3)", "dropout: (min: 0.0, max: 0.0)")
        .replace("skip: [false, true]", "skip: [false]")
        .replace("optimizers: [SgdMomentum, Adam, AdamW]", "optimizers: [Adam]")
        .replace("learning_rate: (min: 1e-4, max: 1e-1, log: true)", "learning_rate: (min: 1e-3, max: 1e-3)")
        .replace("batch_size: (min: 16, max: 256, log: true)", "batch_size: (min: 32, max: 32)")
        .replace("weight_decay: (min: 1e-6, max: 1e-2, log: true)", "weight_decay: (min: 1e-4, max: 1e-4)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 10, max: 10)");
    std::fs::write(&space, text).unwrap();
    let (png, json) = (dir.join("clusters.png"), dir.join("clusters.json"));
    run_ok(snapshot(&png, &json).args(["--width", "1280", "--height", "720", "--n", "60", "--space"]).arg(&space));
    let img = load(&png);
    let m = read_manifest(&json);
    assert!(m.clusters.len() >= 2, "DBSCAN found {} clusters among 12 distinct architectures", m.clusters.len());
    assert!(m.clusters.iter().all(|c| c.size >= 4), "a cluster has a core of 4: {:?}", m.clusters);
    // Halos and their labels share one quiet colour, used by nothing else.
    let halo = count_color(&img, PANEL_WIDTH as u32, 0, img.width(), img.height(), HALO, 12);
    assert!(halo > 200, "no halos or labels drawn ({halo} px)");
}

#[test]
fn suggestions_stand_as_ghost_points_with_their_predictions() {
    let dir = scratch_dir("explorer_suggest");
    let store = dir.join("store");
    run_ok(mosaic().args(["sweep", "--examples", "300", "--n", "8", "--store"]).arg(&store).arg("--space").arg(tiny_space(&dir)));
    run_ok(mosaic().args(["embed", "--store"]).arg(&store));
    let (png, json) = (dir.join("suggest.png"), dir.join("suggest.json"));
    run_ok(snapshot(&png, &json).args(["--width", "1280", "--height", "720", "--suggest", "3", "--store"]).arg(&store));
    let img = load(&png);
    let m = read_manifest(&json);
    assert_eq!(m.ghosts.len(), 3, "3 suggestions asked for: {:?}", m.ghosts);
    for g in &m.ghosts {
        assert!((0.0..=1.0).contains(&g.mean), "a predicted accuracy outside [0, 1]: {}", g.mean);
        // Each ghost wears the cyan ring, a colour no colour map uses.
        assert!(color_near(&img, g.x, g.y, 40.0, GHOST_RING, 40), "no ghost ring near ({}, {})", g.x, g.y);
    }
    let db = mosaic_store::open(&store).unwrap();
    let sweep = db.sweeps().unwrap().remove(0);
    assert_eq!(db.suggestions(sweep.id, true).unwrap().len(), 3, "the batch is stored for `mosaic search` and the Train button");
}
