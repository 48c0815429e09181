//! NeuroMosaic's compute service and the domain steps the commands share.
//!
//! - [`live`]: a store's sweep as a view shows it ([`live::open`]), trained
//!   in the background by a [`live::Trainer`] the view starts and stops.
//! - [`service`]: the threads that answer a view's [`mosaic_protocol::ViewRequest`]s,
//!   one final answer each, superseding older requests of a kind.
//! - [`sweeps`], [`embed`], [`landscape`], [`suggest`], [`path`], [`design`]:
//!   planning sweeps and loading their data, embedding them, loss surfaces,
//!   suggestions, paths between networks, the sampled design sphere; and
//!   [`benchmark`], the search benchmark's table from a store. Each
//!   takes a plain request; the command line builds one from its flags.
//!
//! No Bevy and no command line here: the explorer, the `mosaic` binary and
//! tests drive it through the protocol's channels or by direct calls.

pub mod benchmark;
pub mod design;
pub mod embed;
pub mod import;
pub mod landscape;
pub mod launch;
pub mod live;
pub mod path;
pub mod report;
pub mod service;
pub mod suggest;
pub mod sweeps;
