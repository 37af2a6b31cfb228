//! One module per command.

pub mod import;
pub mod status;
