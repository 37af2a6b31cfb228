//! One module per command.

pub mod status;
