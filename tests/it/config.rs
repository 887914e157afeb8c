//! Config as code: validation errors, plans, round trips.
