//! End-to-end tests of the editor part of the window (issue 14).
