//! End-to-end tests of the linking part of the window (issue 14).
