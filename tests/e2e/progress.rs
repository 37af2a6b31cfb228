//! End-to-end tests of the progress part of the window (issue 14).
