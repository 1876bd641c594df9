//! The object pipeline: the one way object versions are written ([`write`]), read ([`read`])
//! and their bytes moved ([`data`]). Handlers describe what a request asks for and render the
//! answer; the record, its commit and its lookup live here, so that a new fact of an object
//! (its version id, its encryption, its website redirect) has exactly one place to go.

pub mod data;
pub mod read;
pub mod write;
