//! Formatter tests.
