//! End-to-end tests of the tidy part of the window (issue 14).
